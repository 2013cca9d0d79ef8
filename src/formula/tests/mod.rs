//! Tests of the formula language: valid formulas, invalid formulas, fuzzing.

mod fuzz;
mod invalid;
mod valid;
