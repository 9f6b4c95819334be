//! Renumbering plans for merged and split communes (filled in below).
