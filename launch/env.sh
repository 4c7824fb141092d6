# Sourced by the launch scripts: the environment Cohort runs best in on a shared CPU node.
# OPENBLAS_CORETYPE=Haswell (preset on some machines) forces AVX2 kernels and halves sgemm speed
# on AVX-512 CPUs; without it OpenBLAS picks the kernels for the CPU it finds.
unset OPENBLAS_CORETYPE
# Open MPI refuses to start as root without these (containers and CI run as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
COHORT_BIN="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.build/release/cohort"
export COHORT_BIN
