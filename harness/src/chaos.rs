//! Randomized runs: faults first, then healing, with every check after every event.
