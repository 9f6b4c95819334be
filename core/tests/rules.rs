mod common;

use common::*;

#[test]
fn base_inventory_is_valid() {
    let (_, diags) = check(&Docs::base());
    assert!(diags.is_empty(), "{}", render(&diags));
}
