//! The report model and its renderers. Renderers read only the model.

pub mod json;
pub mod model;
pub mod terminal;

use std::fmt;
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Terminal,
    Json,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["terminal", "json"];
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "terminal" => Ok(Format::Terminal),
            "json" => Ok(Format::Json),
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

pub fn render(report: &model::Report, format: Format, detail: Detail) -> String {
    match format {
        Format::Terminal => terminal::render(report, detail),
        Format::Json => json::render(report),
    }
}
