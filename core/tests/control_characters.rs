//! The `control-character` rule: no string of any object may hold a control character (a line
//! break in a description would be rendered as a configuration line of its own). Each test puts
//! one into the valid base inventory and checks the code, the object, the message and that the
//! position is the scalar's.

mod common;

use common::*;

/// The one error in `diags`, which must be a `control-character` one.
#[track_caller]
fn sole(diags: &[hatang_core::Diagnostic]) -> &hatang_core::Diagnostic {
    assert_eq!(
        error_codes(diags),
        ["control-character"],
        "{}",
        render(diags)
    );
    errors(diags)[0]
}

#[test]
fn a_line_feed_in_an_interface_description_is_refused_at_the_value() {
    let docs = Docs::base().edit(
        "Device/edge-main-1",
        "description: core uplink",
        r#"description: "core uplink\nreload in 1""#,
    );
    let (text, diags) = check(&docs);
    let d = sole(&diags);
    assert_object(d, "Device/edge-main-1");
    assert_eq!(
        d.message,
        "`spec.interfaces[0].description` contains a line feed (U+000A) at character 12: a \
         control character could end a configuration line and start a command of its own"
    );
    assert_at(d, FILE, pos_of(&text, r#""core uplink\n"#, r#""core"#));
    assert!(hint(d).contains("one line"), "{d}");
    // As `hatang validate` prints it: file:line:column first.
    let (line, column) = pos_of(&text, r#""core uplink\n"#, r#""core"#);
    assert!(
        d.to_string().starts_with(&format!(
            "{FILE}:{line}:{column}: error[control-character]: "
        )),
        "{d}"
    );
}

#[test]
fn a_multi_line_block_scalar_is_refused_too() {
    // No field is multi-line: a `|` block scalar is as much an injection as an escape.
    let docs = Docs::base().edit(
        "Device/edge-main-1",
        "description: core uplink\n",
        "description: |\n        core uplink\n        end\n",
    );
    let (text, diags) = check(&docs);
    let d = sole(&diags);
    assert!(
        d.message.contains("line feed (U+000A) at character 12"),
        "{d}"
    );
    // The scalar's text starts on the line after the indicator.
    assert_at(d, FILE, pos_of(&text, "core uplink", "core"));
}

#[test]
fn a_carriage_return_is_refused() {
    let docs = Docs::base().edit(
        "Device/edge-main-1",
        "description: UBND Phường Ba Đình",
        r#"description: "UBND Phường Ba Đình\r""#,
    );
    let (text, diags) = check(&docs);
    let d = sole(&diags);
    assert!(
        d.message.starts_with(
            "`spec.interfaces[1].description` contains a carriage return (U+000D) at character 20"
        ),
        "{d}"
    );
    assert_at(d, FILE, pos_of(&text, r#"Đình\r""#, r#""UBND"#));
}

#[test]
fn a_tab_is_refused_even_between_words() {
    // Decision: TAB is a control character like any other; no configuration needs one.
    let docs = Docs::base().edit(
        "Circuit/ba-dinh-primary",
        "provider: VNPT",
        r#"provider: "VNPT\tHà Nội""#,
    );
    let (text, diags) = check(&docs);
    let d = sole(&diags);
    assert_object(d, "Circuit/ba-dinh-primary");
    assert!(
        d.message
            .starts_with("`spec.provider` contains a tab (U+0009) at character 5"),
        "{d}"
    );
    assert_at(d, FILE, pos_of(&text, r#"VNPT\t"#, r#""VNPT"#));
}

#[test]
fn a_c1_control_in_any_kind_is_refused() {
    // CSI (U+009B) starts a terminal escape sequence where a C1-aware terminal shows a config.
    let docs = Docs::base().edit(
        "Site/dc-giang-vo",
        "displayName: Trung tâm dữ liệu chính — 185 Giảng Võ",
        r#"displayName: "Trung tâm dữ liệu chính\u009B2J""#,
    );
    let (text, diags) = check(&docs);
    let d = sole(&diags);
    assert_object(d, "Site/dc-giang-vo");
    assert!(
        d.message.starts_with(
            "`spec.displayName` contains a C1 control character (U+009B) at character 24"
        ),
        "{d}"
    );
    assert_at(d, FILE, pos_of(&text, r#"\u009B2J"#, r#""Trung"#));
}

#[test]
fn delete_in_a_nested_field_and_in_a_label_value_are_refused_each_at_its_place() {
    let docs = Docs::base()
        .edit(
            "Device/edge-main-1",
            "  name: edge-main-1\n",
            "  name: edge-main-1\n  labels:\n    team: \"noc\\x7f\"\n",
        )
        .edit(
            "Device/edge-main-1",
            "sshHostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVkZ2UtbWFpbi0x",
            r#"sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVkZ2UtbWFpbi0x\x7f""#,
        );
    let (text, diags) = check(&docs);
    let errs = errors(&diags);
    assert_eq!(
        error_codes(&diags),
        ["control-character", "control-character"],
        "{}",
        render(&diags)
    );
    assert!(
        errs[0]
            .message
            .starts_with("`metadata.labels.team` contains a delete (U+007F) at character 4"),
        "{}",
        errs[0]
    );
    assert_at(errs[0], FILE, pos_of(&text, "team: ", "\"noc"));
    assert!(
        errs[1]
            .message
            .starts_with("`spec.management.sshHostKey` contains a delete (U+007F) at character 53"),
        "{}",
        errs[1]
    );
    assert_at(errs[1], FILE, pos_of(&text, "sshHostKey: ", "\"ssh"));
}

#[test]
fn vietnamese_text_and_unicode_spaces_are_fine() {
    let docs = Docs::base().edit(
        "Device/edge-main-1",
        "description: core uplink",
        "description: \"Tầng 2 \u{a0}— phòng máy\u{2009}A\"",
    );
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
}
