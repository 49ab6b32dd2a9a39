// Run once by the mongo image, when its data directory is new (docker-entrypoint-initdb.d):
// landing's own user, with readWrite on the attempt log's database only. The root user
// stays with operators (mongo-express).
const name = process.env.MONGO_APP_USER;
const password = process.env.MONGO_APP_PASSWORD;
db.getSiblingDB("logs").createUser({
  user: name,
  pwd: password,
  roles: [{ role: "readWrite", db: "logs" }],
});
print(`created MongoDB user ${name} (readWrite on logs)`);
