#!/usr/bin/env bash
# A self-signed TLS pair for a local run of nginx, and for the tests: cert.pem and key.pem in
# DIR (default deploy/tls, where docker-compose.yml's TLS_CERT_FILE and TLS_KEY_FILE point by
# default). Valid for localhost, 127.0.0.1 and ::1, plus any further names given.
#   scripts/self-signed-cert.sh [DIR [NAME...]]
# A client trusts it with the certificate itself as its CA, e.g.
# `curl --cacert deploy/tls/cert.pem https://localhost/health`. Production wants a pair from
# a real CA instead: point TLS_CERT_FILE (the full chain) and TLS_KEY_FILE at it.
set -euo pipefail

dir=${1:-deploy/tls}
shift $(($# > 0 ? 1 : 0))
names="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
    names+=",DNS:${name}"
done

mkdir -p "$dir"
# The key is written readable by its owner only; nginx's master reads it as root.
(
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
        -subj "/CN=localhost" -addext "subjectAltName=${names}" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem"
)
chmod 644 "$dir/cert.pem"
echo "wrote $dir/cert.pem and $dir/key.pem (self-signed, for ${names})"
