#!/usr/bin/env bash
# deps.sh installs what the tests need on a fresh Debian 12 machine of this
# project's kind (root, Go, Node.js 20 and npm already there), and does nothing
# where it is already in place. It prints one line per step.
#
# Steps:
#   npm     npm ci at the repo root when node_modules is missing or older than
#           package-lock.json (skipped while the repo has no package-lock.json)
#   python  Debian's python3-socketio and python3-aiohttp for /usr/bin/python3,
#           with python3-requests and python3-websocket, the transports of its
#           Client (python-engineio imports them optionally; Debian does not depend on them),
#           and python3-msgpack for its serializer='msgpack' (parsers/msgpack)
#           (the python3 on PATH may be another interpreter without them)
#   pyfleet Debian's python3-redis, python3-kombu, python3-kafka, python3-zmq
#           and python3-eventlet for /usr/bin/python3, the brokers of
#           python-socketio's RedisManager, KombuManager, KafkaManager and
#           ZmqManager (which needs eventlet), for the python fleet tests of
#           managers/redis, managers/amqp, managers/kafka and managers/zmq
#   redis   Debian's redis-server when it is missing, and a server on
#           127.0.0.1:6379 when nothing answers there
#   rabbitmq  Debian's rabbitmq-server when it is missing, started when nothing
#           listens on 127.0.0.1:5672 (guest/guest), for managers/amqp
#   nats    Debian's nats-server when it is missing, started on 127.0.0.1:4222
#           when nothing listens there, for managers/nats
#   chromium  Debian's chromium at /usr/bin/chromium when it is missing, for the
#           browser test of examples/chat (driven by npm's playwright-core)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'deps: %-7s %s\n' "$1" "$2"; }

apt_updated=0
apt_install() {
	if [[ $apt_updated == 0 ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

step_npm() {
	if [[ ! -f package-lock.json ]]; then
		if [[ -f package.json ]]; then
			log npm "package.json has no committed package-lock.json; skipped (run npm install and commit the lock file)"
		else
			log npm "no package.json at the repo root; skipped"
		fi
		return
	fi
	# npm ci writes node_modules/.package-lock.json; it is the stamp of the last install.
	local stamp=node_modules/.package-lock.json
	if [[ -f $stamp && ! package-lock.json -nt $stamp ]]; then
		log npm "node_modules is up to date with package-lock.json"
		return
	fi
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	touch "$stamp"
	log npm "installed node_modules with npm ci"
}

step_python() {
	if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import socketio, aiohttp, requests, websocket, msgpack' 2>/dev/null; then
		log python "/usr/bin/python3 has socketio, aiohttp, requests, websocket and msgpack"
		return
	fi
	apt_install python3-socketio python3-aiohttp python3-requests python3-websocket python3-msgpack
	/usr/bin/python3 -c 'import socketio, aiohttp, requests, websocket, msgpack'
	log python "installed python3-socketio, python3-aiohttp, python3-requests, python3-websocket and python3-msgpack"
}

step_pyfleet() {
	local check='import redis, kombu, kafka, zmq, eventlet.green.zmq'
	if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "$check" 2>/dev/null; then
		log pyfleet "/usr/bin/python3 has redis, kombu, kafka, zmq and eventlet"
		return
	fi
	apt_install python3-redis python3-kombu python3-kafka python3-zmq python3-eventlet
	/usr/bin/python3 -c "$check"
	log pyfleet "installed python3-redis, python3-kombu, python3-kafka, python3-zmq and python3-eventlet"
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

step_redis() {
	local did=()
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		apt_install redis-server redis-tools
		did+=("installed redis-server")
	fi
	if ! redis_up; then
		mkdir -p /var/lib/redis /var/log/redis
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
			--dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null
		local i
		for i in $(seq 50); do
			redis_up && break
			sleep 0.1
		done
		if ! redis_up; then
			log redis "redis-server on 127.0.0.1:6379 did not answer PING (see /var/log/redis/ci.log)"
			return 1
		fi
		did+=("started redis-server on 127.0.0.1:6379")
	fi
	if [[ ${#did[@]} == 0 ]]; then
		log redis "redis-server answers on 127.0.0.1:6379"
	else
		log redis "$(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"
	fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS: true once something listens on 127.0.0.1:PORT.
wait_port() {
	local i
	for i in $(seq $(($2 * 10))); do
		port_open "$1" && return 0
		sleep 0.1
	done
	return 1
}

step_rabbitmq() {
	local did=()
	if ! command -v rabbitmq-server >/dev/null; then
		apt_install rabbitmq-server
		did+=("installed rabbitmq-server")
	fi
	if ! port_open 5672; then
		mkdir -p /var/log/rabbitmq
		RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached >/dev/null 2>&1 || true
		if ! wait_port 5672 60; then
			log rabbitmq "rabbitmq-server did not listen on 127.0.0.1:5672 (see /var/log/rabbitmq)"
			return 1
		fi
		did+=("started rabbitmq-server on 127.0.0.1:5672")
	fi
	if [[ ${#did[@]} == 0 ]]; then
		log rabbitmq "rabbitmq-server listens on 127.0.0.1:5672"
	else
		log rabbitmq "$(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"
	fi
}

step_nats() {
	local did=()
	if ! command -v nats-server >/dev/null; then
		apt_install nats-server
		did+=("installed nats-server")
	fi
	if ! port_open 4222; then
		setsid nats-server -a 127.0.0.1 -p 4222 -l /var/log/nats-server.log </dev/null >/dev/null 2>&1 &
		if ! wait_port 4222 10; then
			log nats "nats-server did not listen on 127.0.0.1:4222 (see /var/log/nats-server.log)"
			return 1
		fi
		did+=("started nats-server on 127.0.0.1:4222")
	fi
	if [[ ${#did[@]} == 0 ]]; then
		log nats "nats-server listens on 127.0.0.1:4222"
	else
		log nats "$(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"
	fi
}

step_chromium() {
	if [[ -x /usr/bin/chromium ]]; then
		log chromium "/usr/bin/chromium is installed"
		return
	fi
	apt_install chromium
	/usr/bin/chromium --version >/dev/null
	log chromium "installed Debian's chromium ($(/usr/bin/chromium --version 2>/dev/null))"
}

steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(npm python pyfleet redis rabbitmq nats chromium)
for s in "${steps[@]}"; do
	case $s in
	npm | python | pyfleet | redis | rabbitmq | nats | chromium) "step_$s" ;;
	*)
		echo "deps: unknown step $s (known: npm python pyfleet redis rabbitmq nats chromium)" >&2
		exit 2
		;;
	esac
done
