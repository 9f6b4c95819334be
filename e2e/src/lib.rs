//! `hatang-e2e` holds end-to-end tests that span crates (in `tests/`): the operator binary
//! pushing to and auditing a real FRR lab through a real kube-apiserver. It ships nothing; it is
//! the one place where the lab and the operator meet, so neither depends on the other.
