# Sourced by the launch scripts, and on every node by launch/rank: the environment Cohort runs
# best in on this CPU node.
#
# OpenBLAS picks its kernels when it loads, from the CPU model or from OPENBLAS_CORETYPE. Debian
# 12's OpenBLAS 0.3.21 does not know newer CPU models: on a Xeon of family 6 model 207 its own
# detection falls back to Prescott (SSE3: 29 GFLOP/s on one thread against 110-130 with
# Cooperlake's kernels, `cohort bench blas`). So, unless a core type is already set and this CPU
# can run it (a user's own choice, or one the environment presets because an older OpenBLAS
# miscomputes on this CPU), the core is chosen here from this node's features: Cooperlake's
# kernels where the CPU has avx512_bf16, SkylakeX's where it has AVX-512, OpenBLAS's own choice
# elsewhere (it knows AVX2 parts: Haswell, Zen). COHORT_CPU caps the choice as it caps Cohort's
# and oneDNN's kernels (avx2: Haswell's; portable: Nehalem's SSE kernels).
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
cohort_core_runs() {  # whether this CPU can run OpenBLAS core type $1's kernels
  case "$1" in
    Cooperlake|COOPERLAKE|SapphireRapids|SAPPHIRERAPIDS) [[ "$cpu_flags" == *" avx512_bf16 "* ]] ;;
    SkylakeX|SKYLAKEX|CooperLake) [[ "$cpu_flags" == *" avx512bw "* ]] ;;
    Haswell|HASWELL|Zen|ZEN|SkylakeClient) [[ "$cpu_flags" == *" avx2 "* && "$cpu_flags" == *" fma "* ]] ;;
    *) true ;;  # older x86 cores, and every other architecture's names: OpenBLAS checks them itself
  esac
}
if [ -n "${OPENBLAS_CORETYPE:-}" ] && ! cohort_core_runs "$OPENBLAS_CORETYPE"; then
  echo "launch: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE needs instructions this CPU ($(hostname)) lacks; choosing the core from its features" >&2
  unset OPENBLAS_CORETYPE
fi
case "${COHORT_CPU:-native}" in
  portable) export OPENBLAS_CORETYPE=Nehalem ;;
  avx2|avx2_vnni) cohort_core_runs Haswell && export OPENBLAS_CORETYPE=Haswell ;;
  *)
    if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
      case "$cpu_flags" in
        *" avx512_bf16 "*) export OPENBLAS_CORETYPE=Cooperlake ;;
        *" avx512bw "*)    export OPENBLAS_CORETYPE=SkylakeX ;;
      esac
    fi ;;
esac
unset cpu_flags
unset -f cohort_core_runs
# Open MPI refuses to start as root without these (containers and CI run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The binary the launch scripts run (a test may point them at another build).
COHORT_BIN="${COHORT_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.build/release/cohort}"
export COHORT_BIN
