// CohortNN: see docs/ARCHITECTURE.md
