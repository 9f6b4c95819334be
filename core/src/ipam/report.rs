//! Reports over a ledger (filled in below).
