-- landing's PostgreSQL schema: the source of truth (landing/shared/db.py mirrors it).
-- Every statement is idempotent: `flask --app landing init-db`, the test fixtures and the
-- container entrypoint all run this file on every start.

CREATE TABLE IF NOT EXISTS registrations (
    id          bigserial    PRIMARY KEY,
    phone       varchar(11)  NOT NULL,  -- normalised: ^0[0-9]{10}$
    referrer    varchar(2048),
    request_id  uuid         NOT NULL,
    ip_address  inet,
    user_agent  varchar(512),
    created_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT registrations_phone_key UNIQUE (phone),
    CONSTRAINT registrations_request_id_key UNIQUE (request_id),
    CONSTRAINT registrations_phone_format CHECK (phone ~ '^0[0-9]{10}$')
);

-- Reports and exports read sign-ups by time; phone and request_id lookups use the
-- unique constraints' own indexes.
CREATE INDEX IF NOT EXISTS registrations_created_at_idx ON registrations (created_at);

-- Numbers erased on request, as a keyed hash (never the number): a sign-up, attempt or
-- webhook event of such a number received before erased_at is never stored, logged or
-- announced again (landing/shared/tombstones.py). The app's role reads it; erasing writes
-- it as the schema's owner.
CREATE TABLE IF NOT EXISTS erasures (
    phone_hash  bytea        PRIMARY KEY,
    erased_at   timestamptz  NOT NULL DEFAULT now()
);

-- Sign-ups counted per UTC minute, hour and day, and per referrer ('' for none): what the
-- campaign page plots, read in a few thousand rows whatever the size of registrations. The
-- workers add to it in the statement that inserts the rows, counting only rows actually
-- inserted (a redelivered batch adds nothing); an erase subtracts its row in the transaction
-- that deletes it. Keyed by md5(referrer): a referrer may be longer than an index entry can
-- hold. A count is spread over shards (the writer's backend pid modulo 4; readers add them
-- up): one row per minute would make every worker's commit wait for the one before. One
-- partition per unit keeps each unit's rows together: a read of every day is a few pages,
-- not a page per row among the minutes'.
-- Created once, with every registration already stored counted in (registrations is locked
-- meanwhile, so no insert falls between the count and the first worker's update).
DO $$
BEGIN
    IF to_regclass('signup_counts') IS NULL THEN
        CREATE TABLE signup_counts (
            unit       text         NOT NULL,
            starts_at  timestamptz  NOT NULL,
            referrer   text         NOT NULL,
            shard      smallint     NOT NULL DEFAULT 0,
            n          integer      NOT NULL
        ) PARTITION BY LIST (unit);
        CREATE TABLE signup_counts_minute PARTITION OF signup_counts FOR VALUES IN ('minute');
        CREATE TABLE signup_counts_hour PARTITION OF signup_counts FOR VALUES IN ('hour');
        CREATE TABLE signup_counts_day PARTITION OF signup_counts FOR VALUES IN ('day');
        CREATE UNIQUE INDEX signup_counts_key
            ON signup_counts (unit, starts_at, md5(referrer), shard);
        LOCK TABLE registrations IN SHARE MODE;
        INSERT INTO signup_counts (unit, starts_at, referrer, n)
        SELECT u.unit, date_trunc(u.unit, r.created_at, 'UTC'), coalesce(r.referrer, ''), count(*)
        FROM registrations r CROSS JOIN (VALUES ('minute'), ('hour'), ('day')) AS u (unit)
        GROUP BY 1, 2, 3;
    END IF;
END $$;

-- Sign-ups whose number proved it receives SMS: a code sent to it came back
-- (docs/verification.md). A table of its own, not a column of registrations: the app's role
-- only ever INSERTs here (once per sign-up, ON CONFLICT DO NOTHING), so it never needs
-- UPDATE on registrations, whose rows stay as they were stored. The workers insert only
-- a request_id registrations holds (INSERT ... SELECT); an erasure deletes the row with its
-- registration's. No foreign key: it would make every `TRUNCATE registrations` (tests,
-- benchmarks) name this table too. Created on a database of an older version like any
-- other table: nothing to migrate, a sign-up without a row here is simply not verified.
CREATE TABLE IF NOT EXISTS verifications (
    request_id   uuid         PRIMARY KEY,
    verified_at  timestamptz  NOT NULL DEFAULT now()
);
