//! The loader rejects bad input with a code, a message a person can act on, and the exact
//! `file:line:column` of the problem; it finds inventory files in directories and keeps
//! Vietnamese text as written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use hatang_core::load::{self, LoadError, LoadOptions, YamlLimits};
use hatang_core::model::{RegionLevel, RegionType};

/// A Region document in a file of its own.
fn region(name: &str, display: &str, code: &str) -> String {
    format!(
        "apiVersion: hatang.io/v1alpha1
kind: Region
metadata:
  name: {name}
spec:
  displayName: {display}
  code: \"{code}\"
  level: commune
  type: phường
  parent: thanh-pho-ha-noi-01
"
    )
}

/// Loads `paths` with default options; the paths must exist.
fn load_paths(paths: &[PathBuf]) -> hatang_core::Loaded {
    load::load_paths(paths, &LoadOptions::default()).expect("paths are readable")
}

/// The display form of a path, as locations carry it.
fn shown(path: &Path) -> String {
    path.display().to_string()
}

// ---------------------------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_mapping_key_points_at_the_second_key_and_names_the_first() {
    let text = Docs::base()
        .edit(
            "Region/phuong-hoan-kiem",
            "  level: commune\n",
            "  level: commune\n  code: \"00071\"\n",
        )
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "duplicate-key");
    assert!(
        d.message.contains("duplicate mapping key `code`"),
        "{}",
        d.message
    );
    let dup = pos_of(&text, "code: \"00071\"", "code");
    assert_at(d, FILE, dup);
    assert_eq!(d.related.len(), 1, "{d}");
    assert!(d.related[0].message.contains("first defined here"), "{d}");
    let first = pos_after(&text, "name: phuong-hoan-kiem", "code: \"00070\"", "code");
    assert_eq!(
        (d.related[0].location.line, d.related[0].location.column),
        first
    );
    assert_eq!(d.related[0].location.file, FILE);
    assert!(hint(d).contains("once"), "{d}");
    // The display form is what a person reads and what editors jump to.
    assert!(
        d.to_string()
            .starts_with(&format!("{FILE}:{}:{}: error[duplicate-key]", dup.0, dup.1)),
        "{d}"
    );
}

#[test]
fn duplicate_names_within_a_kind_across_files_name_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a-regions.yaml");
    let b = dir.path().join("b-more-regions.yaml");
    let first = region("phuong-ba-dinh", "Phường Ba Đình", "00004");
    // The second file repeats the name after another document, so the line is not 4.
    let second = format!(
        "{}---\n{}",
        region("phuong-hoan-kiem", "Phường Hoàn Kiếm", "00070"),
        region("phuong-ba-dinh", "Phường Ba Đình (bản sao)", "00005")
    );
    fs::write(&a, &first).unwrap();
    fs::write(&b, &second).unwrap();

    let loaded = load_paths(&[dir.path().to_owned()]);
    let d = only_error(&loaded.diagnostics, "duplicate-name");
    assert!(
        d.message
            .contains("Region `phuong-ba-dinh` is defined more than once"),
        "{}",
        d.message
    );
    assert_object(d, "Region/phuong-ba-dinh");
    let at_b = pos_after(&second, "---", "name: phuong-ba-dinh", "phuong-ba-dinh");
    assert_eq!(at_b, (15, 9));
    assert_at(d, &shown(&b), at_b);
    assert_eq!(d.related.len(), 1, "{d}");
    assert_eq!(d.related[0].message, "first defined here");
    assert_eq!(d.related[0].location.file, shown(&a));
    assert_eq!(
        (d.related[0].location.line, d.related[0].location.column),
        pos_of(&first, "name: phuong-ba-dinh", "phuong-ba-dinh")
    );
    assert!(hint(d).contains("unique"), "{d}");
}

#[test]
fn same_name_in_other_kinds_or_namespaces_is_not_a_duplicate() {
    let text = Docs::base()
        // A Site named like a Region is fine: names are unique per kind.
        .edit(
            "Site/dc-hoa-lac",
            "name: dc-hoa-lac",
            "name: phuong-ba-dinh",
        )
        .text();
    let loaded = load(&text);
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.code != "duplicate-name"),
        "{}",
        render(&loaded.diagnostics)
    );

    let lease = Docs::base()
        .get("ColoLease/so-tai-chinh-tam-thoi")
        .replace("namespace: so-tai-chinh\n", "namespace: so-xay-dung\n");
    let text = Docs::base().push(&lease).text();
    let loaded = load(&text);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    assert_eq!(loaded.inventory.colo_leases.len(), 2);
}

#[test]
fn alias_bomb_fails_at_the_first_alias_over_the_budget() {
    // "Billion laughs": ten levels of ten aliases each would expand to 10^10 nodes.
    let mut text = String::from(
        "apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: lol\nspec:\n  displayName: lol\n",
    );
    text.push_str("  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let prev = level - 1;
        let items = vec![format!("*l{prev}"); 10].join(", ");
        text.push_str(&format!("  l{level}: &l{level} [{items}]\n"));
    }

    // Where the budget runs out: replay the charging rule (each alias costs the size of its
    // target; a sequence of n scalars has n + 1 nodes).
    let mut budget = YamlLimits::default().max_alias_nodes;
    let mut size = 11; // l0: the sequence and its ten scalars
    let mut expected = None;
    'levels: for level in 1..10 {
        for alias in 0..10 {
            if size > budget {
                expected = Some((level, alias));
                break 'levels;
            }
            budget -= size;
        }
        size = 1 + 10 * size;
    }
    let (level, alias) = expected.expect("the bomb exceeds the budget");
    assert!(
        level < 5,
        "the budget should stop the bomb early, at l{level}"
    );
    let line_needle = format!("l{level}: &l{level}");
    let (line, _) = pos_of(&text, &line_needle, &line_needle);
    let line_text = text.lines().nth(line as usize - 1).unwrap();
    let byte = line_text
        .match_indices(&format!("*l{}", level - 1))
        .nth(alias)
        .unwrap()
        .0;

    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "alias-budget");
    assert!(
        d.message.contains("alias expansion exceeds the budget"),
        "{d}"
    );
    assert!(hint(d).contains("alias bomb"), "{d}");
    assert_at(d, FILE, (line, byte as u32 + 1));
    assert!(loaded.inventory.is_empty());
}

#[test]
fn aliases_within_the_budget_are_expanded() {
    let text = Docs::base()
        .edit(
            "Device/edge-main-1",
            "  interfaces:\n",
            "  interfaces: &ifaces\n",
        )
        .edit(
            "Device/edge-backup-1",
            "  interfaces:\n    - name: eth0\n    - name: eth1\n    - name: eth2\n",
            "  interfaces: *ifaces\n",
        )
        .text();
    let loaded = load(&text);
    // Anchors are per document: the alias in another document is unknown.
    let d = only_error(&loaded.diagnostics, "yaml-syntax");
    assert!(d.message.contains("unknown anchor"), "{d}");
    assert!(hint(d).contains("same document"), "{d}");
    assert_at(d, FILE, pos_of(&text, "interfaces: *ifaces", "*ifaces"));

    let text = Docs::base()
        .edit(
            "Device/cpe-ba-dinh",
            "  interfaces:\n    - name: wan0\n    - name: wan1\n",
            "  model: &m Draytek\n  interfaces: [{name: wan0, description: *m}, {name: wan1}]\n",
        )
        .text();
    let loaded = load(&text);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    let cpe = &loaded
        .inventory
        .devices
        .iter()
        .find(|d| d.name() == "cpe-ba-dinh")
        .unwrap();
    assert_eq!(
        cpe.spec.interfaces[0].description.as_deref(),
        Some("Draytek")
    );
}

#[test]
fn file_over_the_size_limit_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regions.yaml");
    let text = region("phuong-ba-dinh", "Phường Ba Đình", "00004");
    fs::write(&path, &text).unwrap();
    let size = text.len() as u64;

    let small = LoadOptions {
        max_file_bytes: size - 1,
        ..Default::default()
    };
    let loaded = load::load_paths(std::slice::from_ref(&path), &small).unwrap();
    let d = only_error(&loaded.diagnostics, "file-too-large");
    assert!(
        d.message.contains(&format!("limit of {} bytes", size - 1)),
        "{}",
        d.message
    );
    assert_at(d, &shown(&path), (1, 1));
    assert!(hint(d).contains("split"), "{d}");
    assert!(loaded.inventory.is_empty());

    // Exactly at the limit is fine.
    let exact = LoadOptions {
        max_file_bytes: size,
        ..Default::default()
    };
    let loaded = load::load_paths(&[path], &exact).unwrap();
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    assert_eq!(loaded.inventory.regions.len(), 1);
}

#[test]
fn invalid_utf8_points_at_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.yaml");
    // Line 3 is Vietnamese text with one byte of a legacy encoding in it (0xE0 is `à` in
    // Windows-1258 and starts a three-byte sequence in UTF-8, so the space after it is invalid).
    let before = "metadata: {name: phuong-ba-dinh, annotations: {note: \"Phường B";
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"apiVersion: hatang.io/v1alpha1\nkind: Region\n");
    bytes.extend_from_slice(before.as_bytes());
    bytes.push(0xE0);
    bytes.extend_from_slice(" Đình\"}}\nspec: {}\n".as_bytes());
    fs::write(&path, &bytes).unwrap();

    let loaded = load_paths(std::slice::from_ref(&path));
    let d = only_error(&loaded.diagnostics, "invalid-utf8");
    assert!(d.message.contains("0xe0"), "{}", d.message);
    // Columns count characters, not bytes: `ườ` are two characters but six bytes.
    let column = before.chars().count() as u32 + 1;
    assert_eq!(column, 63);
    assert_at(d, &shown(&path), (3, column));
    assert!(hint(d).contains("UTF-8"), "{d}");
    assert!(loaded.inventory.is_empty());
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.yaml");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(region("phuong-ba-dinh", "Phường Ba Đình", "00004").as_bytes());
    fs::write(&path, &bytes).unwrap();
    let loaded = load_paths(&[path]);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    assert_eq!(
        loaded.inventory.regions[0].spec.display_name,
        "Phường Ba Đình"
    );
}

#[test]
fn unknown_kind_suggests_the_closest_kind() {
    let text = Docs::base()
        .edit("Device/cpe-ba-dinh", "kind: Device", "kind: Devise")
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "unknown-kind");
    assert!(d.message.contains("unknown kind `Devise`"), "{}", d.message);
    assert_at(d, FILE, pos_of(&text, "kind: Devise", "Devise"));
    assert!(hint(d).contains("`Device`"), "{d}");
    assert!(
        loaded
            .inventory
            .devices
            .iter()
            .all(|d| d.name() != "cpe-ba-dinh")
    );
    // The other documents of the file still load.
    assert_eq!(loaded.inventory.devices.len(), 4);

    let text = Docs::base()
        .edit("Device/cpe-ba-dinh", "kind: Device", "kind: Router")
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "unknown-kind");
    assert!(hint(d).contains("known kinds: Region, Site"), "{d}");
}

#[test]
fn unknown_api_version_names_the_supported_one() {
    let text = Docs::base()
        .edit(
            "Tenant/so-tai-chinh",
            "apiVersion: hatang.io/v1alpha1",
            "apiVersion: hatang.io/v1beta1",
        )
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "unknown-api-version");
    assert!(
        d.message
            .contains("unsupported apiVersion `hatang.io/v1beta1`"),
        "{}",
        d.message
    );
    assert_at(
        d,
        FILE,
        pos_of(&text, "apiVersion: hatang.io/v1beta1", "hatang.io/v1beta1"),
    );
    assert!(hint(d).contains("hatang.io/v1alpha1"), "{d}");
    // The object is not guessed at: it stays out of the inventory.
    assert!(
        loaded
            .inventory
            .tenants
            .iter()
            .all(|t| t.name() != "so-tai-chinh")
    );
}

#[test]
fn unknown_field_points_at_the_key_and_suggests_the_close_name() {
    let text = Docs::base()
        .edit(
            "DataCenter/dc-backup",
            "          heightU: 42",
            "          heigthU: 42",
        )
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "unknown-field");
    assert!(
        d.message
            .starts_with("spec.rooms[0].racks[0].heigthU: unknown field `heigthU`"),
        "{}",
        d.message
    );
    assert_object(d, "DataCenter/dc-backup");
    assert_at(d, FILE, pos_of(&text, "heigthU: 42", "heigthU"));
    assert_eq!(hint(d), "did you mean `heightU`?");
    assert!(
        loaded
            .inventory
            .data_centers
            .iter()
            .all(|d| d.name() != "dc-backup")
    );
}

#[test]
fn unknown_fields_at_the_top_and_in_metadata_point_at_their_keys() {
    let text = Docs::base()
        .edit("Tenant/so-tai-chinh", "spec:\n", "specs:\n")
        .edit(
            "Region/phuong-ba-dinh",
            "  name: phuong-ba-dinh\n",
            "  name: phuong-ba-dinh\n  lables: {tier: a}\n",
        )
        .text();
    let loaded = load(&text);
    let mut diags = loaded.diagnostics.clone();
    hatang_core::diag::sort(&mut diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["unknown-field", "missing-spec", "unknown-field"],
        "{}",
        render(&diags)
    );
    assert_at(&diags[0], FILE, pos_of(&text, "lables:", "lables"));
    assert_eq!(hint(&diags[0]), "did you mean `labels`?");
    // A document-level problem points at the document's first line.
    assert_object(&diags[1], "Tenant/so-tai-chinh");
    assert_at(&diags[1], FILE, (line_of(&text, "kind: Tenant") - 1, 1));
    assert_at(&diags[2], FILE, pos_of(&text, "specs:", "specs"));
    assert_eq!(hint(&diags[2]), "did you mean `spec`?");
}

#[test]
fn unquoted_gso_code_asks_for_quotes() {
    let text = Docs::base()
        .edit("Region/phuong-ba-dinh", "code: \"00004\"", "code: 00004")
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "invalid-field");
    assert!(
        d.message
            .starts_with("spec.code: invalid type: integer `4`"),
        "{}",
        d.message
    );
    assert_object(d, "Region/phuong-ba-dinh");
    assert_at(d, FILE, pos_of(&text, "code: 00004", "00004"));
    assert!(hint(d).contains("quote"), "{d}");
}

#[test]
fn columns_are_counted_in_characters_after_vietnamese_text() {
    let text = Docs::base()
        .set(
            "Region/phuong-ba-dinh",
            "apiVersion: hatang.io/v1alpha1
kind: Region
metadata:
  name: phuong-ba-dinh
spec: {displayName: \"Phường Ba Đình\", code: 4, level: commune, type: phường}
",
        )
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "invalid-field");
    let (line, column) = pos_of(&text, "code: 4,", "4,");
    assert_eq!(column, 45);
    assert_at(d, FILE, (line, column));
}

#[test]
fn invalid_name_with_diacritics_suggests_the_ascii_slug() {
    let text = Docs::base()
        .edit(
            "Region/phuong-hoan-kiem",
            "name: phuong-hoan-kiem",
            "name: phường-hoàn-kiếm",
        )
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "invalid-name");
    assert!(
        d.message
            .contains("`phường-hoàn-kiếm` is not a valid object name"),
        "{d}"
    );
    assert_object(d, "Region/phường-hoàn-kiếm");
    assert_at(d, FILE, pos_of(&text, "name: phường-hoàn-kiếm", "phường"));
    assert!(hint(d).contains("`phuong-hoan-kiem`"), "{d}");
    assert!(hint(d).contains("displayName"), "{d}");
    assert_eq!(loaded.inventory.regions.len(), 2);

    let text = Docs::base()
        .edit(
            "Site/ubnd-phuong-ba-dinh",
            "name: ubnd-phuong-ba-dinh",
            "name: UBND Phường Ba Đình",
        )
        .text();
    let diags = load(&text).diagnostics;
    let d = only_error(&diags, "invalid-name");
    assert!(hint(d).contains("`ubnd-phuong-ba-dinh`"), "{d}");
}

#[test]
fn yaml_syntax_error_has_its_line() {
    let text = Docs::base()
        .edit(
            "Site/ubnd-phuong-hoan-kiem",
            "  displayName: UBND Phường Hoàn Kiếm",
            "  displayName: UBND: Phường Hoàn Kiếm",
        )
        .text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "yaml-syntax");
    assert!(
        d.message.starts_with("YAML syntax error: "),
        "{}",
        d.message
    );
    assert!(d.message.contains("mapping values"), "{}", d.message);
    assert_at(d, FILE, pos_of(&text, "UBND: Phường Hoàn Kiếm", ": Phường"));
    assert!(hint(d).contains("indentation"), "{d}");
    // A file that does not parse yields no object at all (nothing half-read).
    assert!(loaded.inventory.is_empty());

    let text = Docs::base()
        .edit("Site/dc-hoa-lac", "  uplink: none\n", "   uplink: none\n")
        .text();
    let diags = load(&text).diagnostics;
    let d = only_error(&diags, "yaml-syntax");
    let line = pos_after(&text, "name: dc-hoa-lac", "   uplink: none", "uplink").0;
    assert_eq!(d.location.as_ref().unwrap().line, line, "{d}");
}

#[test]
fn hostile_nesting_and_tags_are_refused() {
    let deep = format!(
        "apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: deep\nspec: {}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let diags = load(&deep).diagnostics;
    let d = only_error(&diags, "yaml-syntax");
    assert!(d.message.contains("nesting deeper than"), "{d}");
    assert_eq!(d.location.as_ref().unwrap().line, 5);

    let text = Docs::base()
        .edit(
            "Device/cpe-ba-dinh",
            "  role: cpe\n",
            "  role: cpe\n  model: !vault model-of-cpe\n",
        )
        .text();
    let diags = load(&text).diagnostics;
    let d = only_error(&diags, "yaml-syntax");
    assert!(d.message.contains("unsupported YAML tag `!vault`"), "{d}");
    assert_at(d, FILE, pos_of(&text, "model: !vault", "!vault"));
}

// ---------------------------------------------------------------------------------------------
// Files, directories, documents
// ---------------------------------------------------------------------------------------------

#[test]
fn directories_are_loaded_recursively_skipping_ledgers_and_hidden_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let base = Docs::base();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    };
    let regions = write(
        "regions.yaml",
        &[
            base.get("Region/thanh-pho-ha-noi-01"),
            base.get("Region/phuong-ba-dinh"),
        ]
        .join("---\n"),
    );
    let sites = write("sites/dc.yml", base.get("Site/dc-giang-vo"));
    let devices = write("sites/devices/edge.yaml", base.get("Device/edge-main-1"));
    // None of these is an inventory file; each would fail to load if it were read.
    let garbage = "this: [is not: an inventory\n";
    write("allocations.lock.yaml", garbage);
    write("sites/allocations.lock.yaml", garbage);
    write(".hidden.yaml", garbage);
    write(".git/objects.yaml", garbage);
    write("sites/.draft/device.yaml", garbage);
    write("README.md", garbage);
    write("regions.yaml.orig", garbage);

    let found = load::discover(&[root.to_owned()]).unwrap();
    // Sorted by path components: `sites/dc.yml` comes before `sites/devices/…`.
    assert_eq!(found, vec![regions.clone(), sites.clone(), devices.clone()]);

    let loaded = load_paths(&[root.to_owned()]);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    assert_eq!(loaded.inventory.files, found);
    assert_eq!(loaded.inventory.regions.len(), 2);
    assert_eq!(loaded.inventory.sites.len(), 1);
    assert_eq!(loaded.inventory.devices.len(), 1);
    // Origins point into the right files.
    assert_eq!(loaded.inventory.sites[0].origin.file, 1);
    assert_eq!(loaded.inventory.devices[0].origin.file, 2);

    // A ledger named explicitly is read like any file given by the user.
    let lock = root.join("allocations.lock.yaml");
    let found = load::discover(&[sites.clone(), lock.clone()]).unwrap();
    assert_eq!(found, vec![lock, sites]);
}

/// Loads `paths` on another thread and gives up after `seconds`: a loader that blocks (on a
/// FIFO, say) fails the test instead of hanging it.
fn load_within(paths: Vec<PathBuf>, seconds: u64) -> hatang_core::Loaded {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load::load_paths(&paths, &LoadOptions::default()));
    });
    rx.recv_timeout(std::time::Duration::from_secs(seconds))
        .expect("loading returned in time (a special file must never block it)")
        .expect("paths are readable")
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn a_fifo_named_yaml_is_refused_at_once_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let base = Docs::base();
    fs::write(
        root.join("regions.yaml"),
        base.get("Region/thanh-pho-ha-noi-01"),
    )
    .unwrap();
    let fifo = root.join("x.yaml");
    mkfifo(&fifo);

    // Found in a directory, and named on the command line.
    for paths in [vec![root.to_owned()], vec![fifo.clone()]] {
        let loaded = load_within(paths, 10);
        let d = only_error(&loaded.diagnostics, "not-a-regular-file");
        assert_at(d, &shown(&fifo), (1, 1));
        assert!(d.message.contains("FIFO"), "{}", d.message);
        assert!(d.message.contains(&shown(&fifo)), "{}", d.message);
    }
    // The other file still loads.
    let loaded = load_within(vec![root.to_owned()], 10);
    assert_eq!(loaded.inventory.regions.len(), 1);
    assert!(loaded.has_errors());
}

#[test]
fn a_unix_socket_named_yaml_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("s.yaml");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let loaded = load_within(vec![dir.path().to_owned()], 10);
    let d = only_error(&loaded.diagnostics, "not-a-regular-file");
    assert!(d.message.contains("socket"), "{}", d.message);
    assert_at(d, &shown(&socket), (1, 1));
}

#[test]
fn symbolic_links_to_files_are_read_links_to_directories_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    let base = Docs::base();
    let target = outside.path().join("regions.yaml");
    fs::write(&target, base.get("Region/thanh-pho-ha-noi-01")).unwrap();
    fs::create_dir(outside.path().join("more")).unwrap();
    fs::write(
        outside.path().join("more/site.yaml"),
        base.get("Site/dc-giang-vo"),
    )
    .unwrap();
    let link = root.join("linked.yaml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // A directory link, even one with an inventory name, is not followed.
    std::os::unix::fs::symlink(outside.path().join("more"), root.join("more")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("more"), root.join("dir.yaml")).unwrap();

    let loaded = load_within(vec![root.to_owned()], 10);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    assert_eq!(
        loaded.inventory.files,
        vec![link.clone()],
        "read under the link's path"
    );
    assert_eq!(loaded.inventory.regions.len(), 1);
    assert!(loaded.inventory.sites.is_empty());

    // A link to nothing, or to a FIFO, is refused with the link's path.
    let dangling = root.join("dangling.yaml");
    std::os::unix::fs::symlink(root.join("gone.yaml"), &dangling).unwrap();
    let fifo = outside.path().join("pipe");
    mkfifo(&fifo);
    let to_fifo = root.join("pipe.yaml");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    let loaded = load_within(vec![root.to_owned()], 10);
    assert_eq!(
        loaded.diagnostics.len(),
        2,
        "{}",
        render(&loaded.diagnostics)
    );
    let d = the(&loaded.diagnostics, "unreadable-file");
    assert_at(d, &shown(&dangling), (1, 1));
    let d = the(&loaded.diagnostics, "not-a-regular-file");
    assert_at(d, &shown(&to_fifo), (1, 1));
}

#[test]
fn empty_or_missing_directories_are_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("allocations.lock.yaml"), "a: 1\n").unwrap();
    match load::load_paths(&[dir.path().to_owned()], &LoadOptions::default()) {
        Err(LoadError::Empty(p)) => assert_eq!(p, dir.path()),
        other => panic!("expected LoadError::Empty, got {other:?}"),
    }
    let missing = dir.path().join("nope");
    match load::load_paths(std::slice::from_ref(&missing), &LoadOptions::default()) {
        Err(e @ LoadError::Unreadable { .. }) => {
            assert!(e.to_string().contains("nope"), "{e}")
        }
        other => panic!("expected LoadError::Unreadable, got {other:?}"),
    }
}

#[test]
fn multi_document_files_keep_going_past_a_bad_document() {
    let text = format!(
        "# Hà Nội regions\n---\n{}---\n---\n{}---\n{}",
        region("phuong-ba-dinh", "Phường Ba Đình", "00004"),
        region("phuong-hoan-kiem", "Phường Hoàn Kiếm", "00070")
            .replace("level: commune", "level: comune"),
        region("phuong-cua-nam", "Phường Cửa Nam", "00082"),
    );
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "invalid-field");
    assert!(d.message.contains("unknown variant `comune`"), "{d}");
    assert_eq!(hint(d), "did you mean `commune`?");
    assert_object(d, "Region/phuong-hoan-kiem");
    assert_at(d, FILE, pos_of(&text, "level: comune", "comune"));

    let names: Vec<_> = loaded.inventory.regions.iter().map(|r| r.name()).collect();
    assert_eq!(names, ["phuong-ba-dinh", "phuong-cua-nam"]);
    // Document indexes skip the empty document; origins are the first line of each document.
    let origins: Vec<_> = loaded
        .inventory
        .regions
        .iter()
        .map(|r| (r.origin.doc, r.origin.line))
        .collect();
    assert_eq!(
        origins,
        [
            (0, line_of(&text, "name: phuong-ba-dinh") - 3),
            (2, line_of(&text, "name: phuong-cua-nam") - 3)
        ]
    );
}

#[test]
fn vietnamese_display_names_round_trip_unchanged() {
    let decomposed = "Phu\u{031B}\u{0300}o\u{031B}\u{0300}ng Ba D\u{0300}nh"; // NFD, as some editors save
    let text = Docs::base()
        .edit(
            "Region/phuong-hoan-kiem",
            "displayName: Phường Hoàn Kiếm",
            &format!("displayName: \"{decomposed}\""),
        )
        .text();
    let loaded = load(&text);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    let inv = &loaded.inventory;
    let region = |name: &str| inv.regions.iter().find(|r| r.name() == name).unwrap();
    let hn = region("thanh-pho-ha-noi-01");
    assert_eq!(hn.spec.display_name, "Thành phố Hà Nội");
    assert_eq!(hn.spec.region_type, RegionType::ThanhPho);
    assert_eq!(hn.spec.level, RegionLevel::Province);
    assert_eq!(region("phuong-ba-dinh").spec.display_name, "Phường Ba Đình");
    assert_eq!(
        region("phuong-ba-dinh").spec.region_type,
        RegionType::Phuong
    );
    // No normalisation: the bytes written are the bytes read.
    assert_eq!(region("phuong-hoan-kiem").spec.display_name, decomposed);
    assert_eq!(
        inv.sites[0].spec.display_name,
        "Trung tâm dữ liệu chính — 185 Giảng Võ"
    );
    assert_eq!(
        inv.sites[0].spec.address.as_deref(),
        Some("185 Giảng Võ, Ba Đình, Hà Nội")
    );
    assert_eq!(inv.tenants[0].spec.display_name, "Sở Tài chính");
    assert_eq!(
        inv.information_systems[0].spec.display_name,
        "Cổng dịch vụ công thành phố"
    );
    assert_eq!(
        inv.devices[0].spec.interfaces[1].description.as_deref(),
        Some("UBND Phường Ba Đình")
    );
}

#[test]
fn base_inventory_loads_every_document() {
    let loaded = load(&Docs::base().text());
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    let inv = &loaded.inventory;
    assert_eq!(inv.regions.len(), 3);
    assert_eq!(inv.sites.len(), 4);
    assert_eq!(inv.data_centers.len(), 2);
    assert_eq!(inv.devices.len(), 5);
    assert_eq!(inv.circuits.len(), 4);
    assert_eq!(inv.address_plans.len(), 1);
    assert_eq!(inv.tenants.len(), 1);
    assert_eq!(inv.colo_leases.len(), 1);
    assert_eq!(inv.information_systems.len(), 1);
    assert_eq!(inv.files, [PathBuf::from(FILE)]);
}
