//! The report model and its renderers. Renderers read only the model.

pub mod diff;
pub mod handover;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod model;
pub mod sarif;
pub mod terminal;

use std::fmt;
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Terminal,
    Json,
    /// The handover document in Markdown (a PR comment, `$GITHUB_STEP_SUMMARY`).
    Markdown,
    /// The handover document in HTML (print to PDF for the client).
    Html,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// JUnit XML (CI test reports).
    Junit,
}

impl Format {
    pub const NAMES: &'static [&'static str] =
        &["terminal", "json", "markdown", "html", "sarif", "junit"];

    /// The handover template this format renders with, if any.
    pub fn template(self) -> Option<&'static str> {
        match self {
            Format::Markdown => Some(handover::MARKDOWN),
            Format::Html => Some(handover::HTML),
            _ => None,
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "terminal" => Ok(Format::Terminal),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            other => Err(format!(
                "unknown format `{other}`; formats: {}",
                Format::NAMES.join(", ")
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Terminal => "terminal",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        })
    }
}

/// `FMT` or `FMT=PATH` from `--format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Format,
    pub path: Option<std::path::PathBuf>,
}

impl FromStr for OutputSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (format, path) = match s.split_once('=') {
            Some((f, "")) => return Err(format!("`{f}=` needs a file path")),
            Some((f, p)) => (f, Some(std::path::PathBuf::from(p))),
            None => (s, None),
        };
        Ok(OutputSpec {
            format: format.parse()?,
            path,
        })
    }
}

/// How much the terminal renderer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Problems and the summary only.
    Quiet,
    Normal,
    /// Evidence of passing findings too.
    Verbose,
}

/// Renders `report` with the built-in templates. The built-in templates are tested to
/// render every report; should one ever fail, the output says why instead.
pub fn render(report: &model::Report, format: Format, detail: Detail) -> String {
    match Renderer::new(detail, None).and_then(|r| r.render(report, format)) {
        Ok(text) => text,
        Err(e) => format!("launchready could not render the {format} report: {e}\n"),
    }
}

/// Renders reports in any format, with the handover templates of a folder
/// (`--template DIR`) where it has them.
pub struct Renderer {
    detail: Detail,
    /// The terminal report's width in columns.
    width: usize,
    templates: handover::Templates,
}

impl Renderer {
    pub fn new(
        detail: Detail,
        template_dir: Option<&std::path::Path>,
    ) -> Result<Renderer, handover::TemplateError> {
        Ok(Renderer {
            detail,
            width: terminal::DEFAULT_WIDTH,
            templates: handover::Templates::new(template_dir)?,
        })
    }

    /// The terminal report wraps to `width` columns (default [`terminal::DEFAULT_WIDTH`]).
    pub fn with_width(mut self, width: usize) -> Renderer {
        self.width = width;
        self
    }

    /// Loads the template `format` needs, so that a mistake in it shows before an audit.
    pub fn check(&self, format: Format) -> Result<(), handover::TemplateError> {
        match format.template() {
            Some(name) => self.templates.check(name),
            None => Ok(()),
        }
    }

    pub fn render(
        &self,
        report: &model::Report,
        format: Format,
    ) -> Result<String, handover::TemplateError> {
        Ok(match format {
            Format::Terminal => terminal::render(report, self.detail, self.width),
            Format::Json => json::render(report),
            Format::Sarif => sarif::render(report),
            Format::Junit => junit::render(report),
            Format::Markdown | Format::Html => {
                let name = format.template().unwrap_or(handover::HTML);
                self.templates.render(name, report)?
            }
        })
    }
}
