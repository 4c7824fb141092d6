# Sourced by launch/train: the hosts of an Open MPI hostfile, and which of them answer.
#
# A host answers when Open MPI's own launch agent (OMPI_MCA_plm_rsh_agent, ssh by default) can run
# `true` on it within COHORT_PROBE_TIMEOUT seconds (default 4): the same way mpirun will start its
# daemon there, so a host that fails the probe would fail the job's start too.

# "HOST SLOTS" for every host line of hostfile $1 (slots default to 1, as Open MPI's).
hostfile_hosts() {
  awk '!/^#/ && NF { n = 1; for (i = 2; i <= NF; i++) if ($i ~ /^slots=/) { split($i, a, "="); n = a[2] } print $1, n }' "$1"
}

# The launch agent as words ("ssh : rsh" is Open MPI's list of choices: the first is used). Inside
# a Slurm allocation Open MPI starts its daemons with srun, so the probe is a one-task job step on
# the host (--overlap: beside whatever step still holds the CPUs).
probe_agent() {
  if [ -n "${SLURM_JOB_ID:-}" ] && [ -z "${OMPI_MCA_plm_rsh_agent:-}" ]; then
    probe_agent_words=(srun --nodes=1 --ntasks=1 --overlap --quiet --nodelist)
    return
  fi
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

# The Slurm allocation as a hostfile: "NODE slots=TASKS" for each of SLURM_JOB_NODELIST's nodes,
# the tasks from SLURM_TASKS_PER_NODE ("2(x3),1": 2 on each of three nodes, then 1).
slurm_hostfile() {
  local nodes counts
  nodes=$(scontrol show hostnames "$SLURM_JOB_NODELIST")
  counts=$(tr ',' '\n' <<<"${SLURM_TASKS_PER_NODE:-1}" | awk -F'[(x)]' '{ n = ($3 == "" ? 1 : $3); for (i = 0; i < n; i++) print $1 }')
  paste -d' ' <(echo "$nodes") <(echo "$counts") | awk 'NF == 2 { print $1, "slots=" $2 }'
}
