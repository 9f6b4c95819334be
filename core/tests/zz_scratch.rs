mod common;
use common::*;

fn show(text: &str) {
    let l = load(text);
    println!("=== {} objects", l.inventory.len());
    for d in &l.diagnostics { println!("{d}"); }
}

#[test]
fn scratch() {
    let head = "apiVersion: hatang.io/v1alpha1\nkind: DataCenter\nmetadata:\n  name: dc\nspec:\n  displayName: x\n  site: s\n  tier: main\n  peer: p\n  rooms:\n    - name: P1\n      racks:\n        - name: A01\n          heigthU: 42\n          powerKw: 3\n";
    show(head);
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: phường-ba-đình\nspec: {displayName: \"Phường Ba Đình\", code: 00004, level: commune, type: phường}\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\nspec:\n  displayName: \"Phường Ba Đình\n  code: \"00004\"\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\nspec:\n  displayName: Phường: Ba Đình: x\n  code: \"00004\"\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\nspec:\n  displayName: a\n   code: \"00004\"\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\nspec:\n  displayName: *nope\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\n  nmae: y\nspec:\n  displayName: a\n  code: \"00004\"\n  level: commune\n  type: phường\n  parnet: z\nfoo: 1\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\nspec:\n  displayName: a\n  code: \"00004\"\n  level: comune\n  type: phuong\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Circuit\nmetadata:\n  name: x\nspec:\n  a: {device: d, interface: i}\n  z: {device: d, interface: i}\n  medium: fiber\n  role: primary\n  bandwidthMbps: \"100\"\n");
    show("apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: x\nspec:\n  displayName: a\n  code: \"00004\"\n  level: commune\n");
}
