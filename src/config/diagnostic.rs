//! Errors in files the user wrote (config, profiles, check specs), with the file, the
//! span of the offending text and a help line. All of a file's errors are collected
//! before launchready gives up, so one run shows every mistake.

use std::ops::Range;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

/// A file whose contents errors can point into.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
        (line, column)
    }
}

/// One problem in one file.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(launchready::config))]
pub struct FileDiagnostic {
    pub message: String,
    #[source_code]
    pub src: NamedSource<Arc<str>>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
    /// Where the problem is, for plain-text output: `file:line:column`.
    pub location: String,
}

impl FileDiagnostic {
    pub fn new(
        file: &SourceFile,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> FileDiagnostic {
        let start = span.start.min(file.text.len());
        let end = span.end.clamp(start, file.text.len());
        let (line, column) = file.line_col(start);
        FileDiagnostic {
            message: message.into(),
            src: NamedSource::new(&file.name, file.text.clone()),
            span: SourceSpan::from(start..end),
            label: label.into(),
            help,
            location: format!("{}:{line}:{column}", file.name),
        }
    }
}

/// Every problem found while loading config, profiles and checks.
#[derive(Debug, Clone, Default, thiserror::Error, miette::Diagnostic)]
#[error("{} problem(s) in the configuration", .problems.len())]
pub struct ConfigErrors {
    #[related]
    pub problems: Vec<ConfigProblem>,
}

/// A problem in a file, or one that belongs to no file (a bad command-line glob).
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum ConfigProblem {
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(Box<FileDiagnostic>),
    #[error("{message}")]
    #[diagnostic(code(launchready::usage))]
    Plain {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl ConfigProblem {
    pub fn plain(message: impl Into<String>, help: Option<String>) -> ConfigProblem {
        ConfigProblem::Plain {
            message: message.into(),
            help,
        }
    }
}

impl From<FileDiagnostic> for ConfigProblem {
    fn from(d: FileDiagnostic) -> Self {
        ConfigProblem::File(Box::new(d))
    }
}

impl ConfigErrors {
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn push(&mut self, problem: impl Into<ConfigProblem>) {
        self.problems.push(problem.into());
    }

    pub fn extend(&mut self, other: ConfigErrors) {
        self.problems.extend(other.problems);
    }

    /// `Ok(value)` when nothing was found wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// Renders every problem for a person: with source snippets, file:line:column, labels
/// and help lines; colours only when asked.
pub fn render(errors: &ConfigErrors, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for problem in &errors.problems {
        if handler.render_report(&mut out, problem).is_err() {
            out.push_str(&problem.to_string());
        }
        if let ConfigProblem::File(d) = problem {
            // Also in plain words, for logs and editors that read `file:line:col`.
            out.push_str(&format!("  at {}\n", d.location));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "launchready: {} problem(s) found; nothing was audited\n",
        errors.problems.len()
    ));
    out
}
