//! Asking the processor for memory a loop will read a few steps on.
//!
//! A plan reads the inventory and the ledger through pointers (names, interfaces, ledger
//! entries in a B-tree), and nearly all of its time went to waiting for each to arrive. The
//! loops know which objects come next, so they ask for them ahead. A prefetch changes no
//! result: it reads nothing and cannot fault, whatever the address.

/// Asks for the cache line that holds `at`.
#[inline(always)]
pub(crate) fn line<T: ?Sized>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of every x86_64 processor, and a prefetch neither reads nor
        // faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Asks for the text of `s`.
#[inline(always)]
pub(crate) fn text(s: &str) {
    line(s.as_ptr());
}
