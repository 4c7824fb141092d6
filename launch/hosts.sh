# Sourced by launch/train: the hosts of an Open MPI hostfile, and which of them answer.
#
# A host answers when Open MPI's own launch agent (OMPI_MCA_plm_rsh_agent, ssh by default) can run
# `true` on it within COHORT_PROBE_TIMEOUT seconds (default 4): the same way mpirun will start its
# daemon there, so a host that fails the probe would fail the job's start too.

# "HOST SLOTS" for every host line of hostfile $1 (slots default to 1, as Open MPI's).
hostfile_hosts() {
  awk '!/^#/ && NF { n = 1; for (i = 2; i <= NF; i++) if ($i ~ /^slots=/) { split($i, a, "="); n = a[2] } print $1, n }' "$1"
}

# The launch agent as words ("ssh : rsh" is Open MPI's list of choices: the first is used).
probe_agent() {
  local line="${OMPI_MCA_plm_rsh_agent:-ssh}"
  line="${line%%:*}"
  read -r -a probe_agent_words <<<"$line"
  # ssh must not stop for a password or a host key question: a probe answers or fails by itself.
  if [ "$(basename "${probe_agent_words[0]}")" = ssh ]; then
    probe_agent_words+=(-o BatchMode=yes -o ConnectTimeout="${COHORT_PROBE_TIMEOUT:-4}")
  fi
}

# Prints the hosts of hostfile $1 that do not answer, one per line; this host always answers.
# The hosts are probed at once, so the whole probe takes one timeout at most.
unanswering_hosts() {
  local file=$1 out host slots pids=()
  out=$(mktemp -d /tmp/cohort-probe.XXXXXX)
  probe_agent
  while read -r host slots; do
    case "$host" in localhost|127.0.0.1|"$(hostname)"|"$(hostname -s)") continue ;; esac
    ( timeout "${COHORT_PROBE_TIMEOUT:-4}" "${probe_agent_words[@]}" "$host" true </dev/null >/dev/null 2>&1 \
        || echo "$host" > "$out/$host" ) &
    pids+=($!)
  done < <(hostfile_hosts "$file")
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null || true
  # In the hostfile's order.
  while read -r host slots; do [ ! -f "$out/$host" ] || echo "$host"; done < <(hostfile_hosts "$file")
  rm -rf "$out"
}
