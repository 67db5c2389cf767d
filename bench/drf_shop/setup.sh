#!/usr/bin/env bash
# The Django REST shop of issue 11 (Klvxn/ecommerce-API) in /tmp, for bench/scenarios against it. Nothing of the
# shop is committed here: this script checks it out, writes three files of our own beside it (settings, urls,
# seed), builds a venv, seeds SQLite and starts gunicorn with 2 workers on 127.0.0.1:$PORT.
#
#   bench/drf_shop/setup.sh [MIRROR_OR_URL]      # default: the search tool's mirror, else GitHub
#   then: kill "$(cat /tmp/drfshop/gunicorn.pid)" to stop it
set -euo pipefail
SOURCE=${1:-/work/.mirror/Klvxn+ecommerce-API/repo}
[ -e "$SOURCE" ] || SOURCE=https://github.com/Klvxn/ecommerce-API
SHOP=${DRFSHOP_DIR:-/tmp/drfshop}
VENV=${DRFSHOP_VENV:-/tmp/drfshop-venv}
PORT=${DRFSHOP_PORT:-8765}
ORDERS=${DRFSHOP_ORDERS:-3000}
HERE=$(cd "$(dirname "$0")" && pwd)

[ -d "$SHOP/.git" ] || git clone -q "$SOURCE" "$SHOP"
git -C "$SHOP" log -1 --format='shop commit %h %ad %s' --date=short
if [ ! -x "$VENV/bin/gunicorn" ]; then
  python3 -m venv "$VENV"
  # psycopg2 (PostgreSQL only) and python-magic-bin (Windows) are left out; python-magic stands in for the latter.
  grep -v 'psycopg2\|python-magic-bin' "$SHOP/requirements.txt" > "$SHOP/bench-requirements.txt"
  "$VENV/bin/pip" install -q -r "$SHOP/bench-requirements.txt" python-magic
fi
for name in bench_settings bench_urls bench_seed; do cp "$HERE/$name.py.txt" "$SHOP/$name.py"; done
cd "$SHOP"
rm -f db.sqlite
DJANGO_SETTINGS_MODULE=bench_settings "$VENV/bin/python" manage.py migrate --run-syncdb > /dev/null
"$VENV/bin/python" bench_seed.py "$ORDERS"
[ -f gunicorn.pid ] && kill "$(cat gunicorn.pid)" 2> /dev/null && sleep 1 || true
DJANGO_SETTINGS_MODULE=bench_settings "$VENV/bin/gunicorn" -w 2 -b "127.0.0.1:$PORT" --pid gunicorn.pid \
  --daemon --error-logfile "$SHOP/gunicorn.log" config.wsgi
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/auth/token/" -d x=1 || [ $? -eq 22 ] && break; sleep 0.2; done
TOKEN=$(curl -fs "http://127.0.0.1:$PORT/auth/token/" -H 'Content-Type: application/json' \
  -d '{"email": "bench@example.com", "password": "bench-pass-123"}' | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access"])')
echo "base URL: http://127.0.0.1:$PORT   auth header: Bearer $TOKEN"
echo "$TOKEN" > "$SHOP/token"
