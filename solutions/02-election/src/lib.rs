//! Stage 2 placeholder.
