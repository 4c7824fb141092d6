// CohortFormats: see docs/ARCHITECTURE.md
