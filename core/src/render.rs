//! Render: device models through handlebars templates into configuration files.
//!
//! Default templates (`templates/<platform>/`) are compiled into the binary; a directory given
//! with `--templates DIR` overrides them file by file (`DIR/<platform>/<file>.hbs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::{Context, Handlebars, no_escape};
use rayon::prelude::*;
use thiserror::Error;

use crate::compile::DeviceModel;
use crate::model::Platform;

/// A template failed to parse or to render.
#[derive(Debug, Error)]
pub enum RenderError {
    /// A template has a syntax error.
    #[error("template `{name}`: {message}")]
    Template {
        /// Template name (`frr/frr.conf`).
        name: String,
        /// What is wrong.
        message: String,
    },
    /// Rendering one device failed (a missing field in strict mode, a helper error).
    #[error("rendering `{template}` for device `{device}`: {message}")]
    Render {
        /// Template name.
        template: String,
        /// Device.
        device: String,
        /// What is wrong.
        message: String,
    },
}

/// A template directory could not be read.
#[derive(Debug, Error)]
#[error("cannot read `{}`: {source}", path.display())]
pub struct TemplateDirError {
    /// The directory or file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Device name.
    pub device: String,
    /// File name within the device's directory (`frr.conf`).
    pub file: String,
    /// Contents.
    pub text: String,
}

/// The templates of every platform: (platform dir, file name without `.hbs`, template text).
#[derive(Debug, Clone)]
pub struct Templates {
    files: BTreeMap<(String, String), String>,
}

fn platform_dir(p: Platform) -> &'static str {
    match p {
        Platform::Frr => "frr",
        Platform::Iosxe => "iosxe",
        Platform::Junos => "junos",
    }
}

impl Templates {
    /// The templates compiled into the binary.
    pub fn builtin() -> Self {
        let mut files = BTreeMap::new();
        for (dir, file, text) in [
            (
                "frr",
                "frr.conf",
                include_str!("../../templates/frr/frr.conf.hbs"),
            ),
            (
                "frr",
                "system.conf",
                include_str!("../../templates/frr/system.conf.hbs"),
            ),
            (
                "iosxe",
                "config",
                include_str!("../../templates/iosxe/config.hbs"),
            ),
        ] {
            files.insert((dir.to_owned(), file.to_owned()), text.to_owned());
        }
        Templates { files }
    }

    /// Replaces or adds a template (`dir` = platform directory, `file` without `.hbs`).
    pub fn set(&mut self, dir: &str, file: &str, text: String) {
        self.files.insert((dir.to_owned(), file.to_owned()), text);
    }

    /// The built-in templates, overridden file by file by `dir/<platform>/<file>.hbs` (the
    /// `--templates DIR` of `hatang` and `hatang-operator run`). Other files are ignored.
    pub fn with_overrides(dir: &Path) -> Result<Self, TemplateDirError> {
        let mut templates = Templates::builtin();
        let read_dir = |d: &Path| {
            std::fs::read_dir(d).map_err(|source| TemplateDirError {
                path: d.to_owned(),
                source,
            })
        };
        for platform in read_dir(dir)? {
            let platform = platform.map_err(|source| TemplateDirError {
                path: dir.to_owned(),
                source,
            })?;
            if !platform.path().is_dir() {
                continue;
            }
            for file in read_dir(&platform.path())? {
                let path = file
                    .map_err(|source| TemplateDirError {
                        path: platform.path(),
                        source,
                    })?
                    .path();
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".hbs"))
                else {
                    continue;
                };
                let text = std::fs::read_to_string(&path).map_err(|source| TemplateDirError {
                    path: path.clone(),
                    source,
                })?;
                templates.set(&platform.file_name().to_string_lossy(), name, text);
            }
        }
        Ok(templates)
    }

    /// Template files for a platform.
    fn for_platform(&self, p: Platform) -> impl Iterator<Item = (&str, &str)> {
        let dir = platform_dir(p);
        self.files
            .iter()
            .filter(move |((d, _), _)| d == dir)
            .map(|((_, f), t)| (f.as_str(), t.as_str()))
    }
}

/// The templates' helpers (`handlebars_helper!` declares each as a `pub struct`, so they live in
/// a private module of their own).
mod helpers {
    use handlebars::handlebars_helper;

    handlebars_helper!(seq: |i: u64| (i + 1) * 5);
    handlebars_helper!(join: |items: array, sep: str| items
        .iter()
        .map(|v| match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() })
        .collect::<Vec<_>>()
        .join(sep));
    handlebars_helper!(ios_name: |name: str| if name == "lo" { "Loopback0".to_owned() } else { name.to_owned() });
}
use helpers::{ios_name, join, seq};

/// One device's rendering: its files, `None` when its platform has no templates, or why it
/// failed.
pub type DeviceRendering = Result<Option<Vec<RenderedFile>>, RenderError>;

/// Renders every model with the templates of its platform. Devices on a platform without
/// templates (Junos here) are skipped and returned in the second list. The first device that
/// fails to render fails the whole rendering.
pub fn render(
    models: &[DeviceModel],
    templates: &Templates,
) -> Result<(Vec<RenderedFile>, Vec<String>), RenderError> {
    let per_device = render_devices(models, templates)?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (m, files) in models.iter().zip(per_device) {
        match files? {
            Some(files) => out.extend(files),
            None => skipped.push(m.name.clone()),
        }
    }
    Ok((out, skipped))
}

/// Renders every model on its own: one result per model, in model order, so that one device
/// that cannot be rendered does not hold the others back (the operator). Fails as a whole only
/// when a template does not parse.
///
/// A device whose template data holds a control character (a line break in a description,
/// say) is not rendered: whatever skipped validation, free text cannot end a configuration
/// line and inject a command (see [`crate::text`]).
pub fn render_devices(
    models: &[DeviceModel],
    templates: &Templates,
) -> Result<Vec<DeviceRendering>, RenderError> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(no_escape);
    hb.register_helper("seq", Box::new(seq));
    hb.register_helper("join", Box::new(join));
    hb.register_helper("ios_name", Box::new(ios_name));
    for ((dir, file), text) in &templates.files {
        let name = format!("{dir}/{file}");
        hb.register_template_string(&name, text)
            .map_err(|e| RenderError::Template {
                name,
                message: e.to_string(),
            })?;
    }
    // Devices render independently: in parallel, collected back in model order. A device's
    // model is turned into template data once, for all of its files (an edge router's model
    // has a BGP neighbour per commune: converting it is most of the cost).
    Ok(models
        .par_iter()
        .with_max_len(64)
        .map(|m| {
            let mut files = templates.for_platform(m.platform).peekable();
            if files.peek().is_none() {
                return Ok(None);
            }
            let failed = |message: String| RenderError::Render {
                template: platform_dir(m.platform).to_owned(),
                device: m.name.clone(),
                message,
            };
            let data = Context::wraps(m).map_err(|e| failed(e.to_string()))?;
            if let Some(found) = crate::text::find_in_json(data.data()).first() {
                return Err(failed(format!(
                    "{}: refused, a control character could end a configuration line and \
                     start a command of its own (run `hatang validate`)",
                    found.describe("model")
                )));
            }
            files
                .map(|(file, _)| {
                    let name = format!("{}/{file}", platform_dir(m.platform));
                    hb.render_with_context(&name, &data)
                        .map(|text| RenderedFile {
                            device: m.name.clone(),
                            file: file.to_owned(),
                            text,
                        })
                        .map_err(|e| RenderError::Render {
                            template: name.clone(),
                            device: m.name.clone(),
                            message: e.to_string(),
                        })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        })
        .collect())
}
