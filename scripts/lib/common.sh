# Shell helpers the project's scripts share; `source "$(dirname "$0")/lib/common.sh"` after
# `cd` to the checkout. Bash only.

# The node and CLI binaries, examples included, in the `node` profile (fast code, thin LTO);
# they land in target/node/. Every script that starts nodes builds them this one way, so one
# build serves them all.
build_node_binaries() {
  cargo build --profile node --locked -q -p murmur-node -p murmur-cli --bins --examples
}

# wait_port PORT [TENTHS]: returns once something accepts connections on 127.0.0.1:PORT;
# after TENTHS tenths of a second (default 100) says so and fails.
wait_port() {
  local tries=${2:-100}
  for _ in $(seq "$tries"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing is listening on 127.0.0.1:$1" >&2
  return 1
}

# The `user` line of an nginx config started by this user. Started as root, nginx runs its
# workers as `nobody`, who cannot read a checkout in a private (0700) directory such as a fresh
# `mktemp -d` clone; these nginx instances only listen on loopback, so their workers run as
# the invoking user instead.
nginx_user_directive() {
  if [[ $(id -u) -eq 0 ]]; then echo "user root root;"; fi
}

# The nginx binary (Debian installs it in /usr/sbin, which is not on every user's PATH).
nginx_bin() {
  command -v nginx || echo /usr/sbin/nginx
}
