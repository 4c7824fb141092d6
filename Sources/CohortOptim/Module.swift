// CohortOptim: see docs/ARCHITECTURE.md
