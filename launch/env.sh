# Sourced by the launch scripts: the environment Cohort runs best in on a shared CPU node.
#
# OpenBLAS picks its kernels when it loads, from the CPU model or from OPENBLAS_CORETYPE. Both go
# wrong on the machines this project runs on: a preset OPENBLAS_CORETYPE=Haswell forces AVX2 kernels
# (half the sgemm speed of an AVX-512 CPU), and Debian 12's OpenBLAS 0.3.21 does not know newer CPU
# models, so on a Xeon of family 6 model 207 its own detection falls back to Prescott (SSE3: 29
# GFLOP/s on one thread against 110-130 with Cooperlake's kernels, `cohort bench blas`). So the core
# is chosen here from the CPU's features: Cooperlake's kernels (AVX-512 with BF16) where the CPU has
# avx512_bf16, SkylakeX's where it has AVX-512, and OpenBLAS's own choice elsewhere.
cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
case " $cpu_flags " in
  *" avx512_bf16 "*) export OPENBLAS_CORETYPE=Cooperlake ;;
  *" avx512bw "*)    export OPENBLAS_CORETYPE=SkylakeX ;;
  *)                 unset OPENBLAS_CORETYPE ;;
esac
unset cpu_flags
# Open MPI refuses to start as root without these (containers and CI run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The binary the launch scripts run (a test may point them at another build).
COHORT_BIN="${COHORT_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.build/release/cohort}"
export COHORT_BIN
