// CohortData: see docs/ARCHITECTURE.md
