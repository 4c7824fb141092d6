#ifndef COHORT_CMPI_SHIM_H
#define COHORT_CMPI_SHIM_H
#include <mpi.h>

// Open MPI defines its handles as macros over global symbols (&ompi_mpi_comm_world...), which Swift
// cannot import. These getters give Swift the same values.
static inline MPI_Comm cohort_mpi_comm_world(void) __attribute__((swift_name("getter:MPI_COMM_WORLD_()")));
static inline MPI_Comm cohort_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cohort_mpi_comm_null(void) __attribute__((swift_name("getter:MPI_COMM_NULL_()")));
static inline MPI_Comm cohort_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype cohort_mpi_float(void) __attribute__((swift_name("getter:MPI_FLOAT_()")));
static inline MPI_Datatype cohort_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cohort_mpi_double(void) __attribute__((swift_name("getter:MPI_DOUBLE_()")));
static inline MPI_Datatype cohort_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cohort_mpi_uint8(void) __attribute__((swift_name("getter:MPI_UINT8_T_()")));
static inline MPI_Datatype cohort_mpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Datatype cohort_mpi_uint64(void) __attribute__((swift_name("getter:MPI_UINT64_T_()")));
static inline MPI_Datatype cohort_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype cohort_mpi_int64(void) __attribute__((swift_name("getter:MPI_INT64_T_()")));
static inline MPI_Datatype cohort_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype cohort_mpi_int(void) __attribute__((swift_name("getter:MPI_INT_()")));
static inline MPI_Datatype cohort_mpi_int(void) { return MPI_INT; }
static inline MPI_Op cohort_mpi_sum(void) __attribute__((swift_name("getter:MPI_SUM_()")));
static inline MPI_Op cohort_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op cohort_mpi_max(void) __attribute__((swift_name("getter:MPI_MAX_()")));
static inline MPI_Op cohort_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op cohort_mpi_min(void) __attribute__((swift_name("getter:MPI_MIN_()")));
static inline MPI_Op cohort_mpi_min(void) { return MPI_MIN; }
static inline void *cohort_mpi_in_place(void) __attribute__((swift_name("getter:MPI_IN_PLACE_()")));
static inline void *cohort_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request cohort_mpi_request_null(void) __attribute__((swift_name("getter:MPI_REQUEST_NULL_()")));
static inline MPI_Request cohort_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cohort_mpi_status_ignore(void) __attribute__((swift_name("getter:MPI_STATUS_IGNORE_()")));
static inline MPI_Status *cohort_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Info cohort_mpi_info_null(void) __attribute__((swift_name("getter:MPI_INFO_NULL_()")));
static inline MPI_Info cohort_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Errhandler cohort_mpi_errors_return(void) __attribute__((swift_name("getter:MPI_ERRORS_RETURN_()")));
static inline MPI_Errhandler cohort_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int cohort_mpi_comm_type_shared(void) __attribute__((swift_name("getter:MPI_COMM_TYPE_SHARED_()")));
static inline int cohort_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int cohort_mpi_thread_funneled(void) __attribute__((swift_name("getter:MPI_THREAD_FUNNELED_()")));
static inline int cohort_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Datatype cohort_mpi_uint16(void) __attribute__((swift_name("getter:MPI_UINT16_T_()")));
static inline MPI_Datatype cohort_mpi_uint16(void) { return MPI_UINT16_T; }
static inline int cohort_mpi_undefined(void) __attribute__((swift_name("getter:MPI_UNDEFINED_()")));
static inline int cohort_mpi_undefined(void) { return MPI_UNDEFINED; }
#endif
