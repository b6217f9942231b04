"""A GitHub GraphQL stand-in: schema subset, cost model, limits, faults and a synthetic world."""
