# tests/cluster.sh — helpers for the cluster tests (110-119); source it after
# lib.sh. Each test starts its own redis-server on a free loopback port in
# $T (no persistence unless asked), and wsbridge-serve instances on it:
#
#   start_redis                       # REDIS_PID, REDIS_PORT, REDIS_URL
#   start_redis --appendonly yes      # extra redis-server arguments
#   start_instance A [ARGS...]        # A_PID A_PORT A_WS A_HTTP A_ERR
#   wait_cluster A ok                 # /health "cluster" of instance A
#   stop_redis                        # SHUTDOWN (saves per its settings)

# free_port: a TCP port nobody listens on now (the kernel's pick).
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_redis_up() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# start_redis [ARGS...]: on REDIS_PORT if set (a restart keeps the address and
# the data directory), else a free one.
start_redis() {
	REDIS_PORT=${REDIS_PORT:-$(free_port)}
	mkdir -p "$T/redis"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' --appendonly no \
		--logfile "$T/redis/redis.log" --daemonize no "$@" >/dev/null 2>&1 &
	REDIS_PID=$!
	track "$REDIS_PID"
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
	poll 10 _redis_up || { echo "redis-server did not start:"; tail -5 "$T/redis/redis.log"; return 1; }
}

# stop_redis: a clean SHUTDOWN, so an appendonly file is complete.
stop_redis() {
	redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1
	wait_pid "$REDIS_PID" 10
}

# start_instance NAME [ARGS...]: wsbridge-serve --cluster $REDIS_URL on a free
# port (or NAME_PORT if set), ready when /health answers.
start_instance() {
	local n=$1 port
	shift
	port=$(eval "echo \${${n}_PORT:-}")
	PORT=$port
	start_serve --cluster "$REDIS_URL" "$@" || return 1
	eval "${n}_PID=$SERVE_PID ${n}_PORT=$PORT ${n}_WS=$WS_URL ${n}_HTTP=$HTTP_URL ${n}_ERR=$SERVE_ERR"
	unset PORT
}

# field_of NAME FIELD: one field of instance NAME's /health (not -f: a
# cluster that is down answers 503 with the same document).
field_of() {
	local url
	url=$(eval "echo \$${1}_HTTP")
	curl -s "$url/health" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}
_field_is() { [ "$(field_of "$1" "$2")" = "$3" ]; }
# wait_cluster NAME STATE [SECS]
wait_cluster() { poll "${3:-10}" _field_is "$1" cluster "$2"; }
_subs_ge() { [ "$(field_of "$1" subscribers)" -ge "$2" ] 2>/dev/null; }
# wait_subs NAME N [SECS]: instance NAME counts at least N subscribers.
wait_subs() { poll "${3:-10}" _subs_ge "$1" "$2"; }
