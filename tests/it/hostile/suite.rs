//! The adversarial corpus as one run, with its figures.
