//! Writing a report in each `--format FMT[=PATH]`: checked before any work starts (one
//! output at most on stdout, every file's folder exists, every template loads), then
//! written. Shared by `audit` and `render`.

use std::path::{Path, PathBuf};

use launchready::report::handover::TemplateError;
use launchready::report::model::Report;
use launchready::report::{Detail, Format, OutputSpec, Renderer};

use super::{AppError, Output};
use crate::cli::Cli;

/// Outputs that were checked and can be written.
pub struct Outputs {
    specs: Vec<OutputSpec>,
    renderer: Renderer,
}

/// How much the terminal report shows, from `-q` / `-v`.
pub fn detail(cli: &Cli) -> Detail {
    if cli.quiet {
        Detail::Quiet
    } else if cli.verbose {
        Detail::Verbose
    } else {
        Detail::Normal
    }
}

/// The width the terminal report wraps to: the terminal's when standard output is one,
/// else 100 columns.
pub fn terminal_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(launchready::report::terminal::DEFAULT_WIDTH, |(w, _)| {
            usize::from(w.0)
        })
}

/// Checks every output before any work: at most one goes to stdout, each file's folder
/// exists and no two write the same file, and the templates the formats need load.
pub fn prepare(
    formats: &[OutputSpec],
    template_dir: Option<&Path>,
    detail: Detail,
) -> Result<Outputs, AppError> {
    let specs = if formats.is_empty() {
        vec![OutputSpec {
            format: Format::Terminal,
            path: None,
        }]
    } else {
        formats.to_vec()
    };
    let to_stdout = specs.iter().filter(|f| f.path.is_none()).count();
    if to_stdout > 1 {
        return Err(AppError::Usage(
            "only one --format can go to standard output; give the others a file: --format json=report.json"
                .into(),
        ));
    }
    let mut seen: Vec<&PathBuf> = Vec::new();
    for spec in &specs {
        let Some(path) = &spec.path else { continue };
        check_path(spec.format, path)?;
        if seen.contains(&path) {
            return Err(AppError::Usage(format!(
                "two --format options write to {}; give each its own file",
                path.display()
            )));
        }
        seen.push(path);
    }
    let renderer = Renderer::new(detail, template_dir)
        .map_err(template_error)?
        .with_width(terminal_width());
    for spec in &specs {
        renderer.check(spec.format).map_err(template_error)?;
    }
    Ok(Outputs { specs, renderer })
}

/// The folder a file is written to must exist, and the path must not be a folder.
fn check_path(format: Format, path: &Path) -> Result<(), AppError> {
    if path.is_dir() {
        return Err(AppError::Usage(format!(
            "--format {format}={} names a folder; give a file path, such as {}",
            path.display(),
            path.join(default_file_name(format)).display()
        )));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent
        && !parent.is_dir()
    {
        return Err(AppError::Usage(format!(
            "--format {format}={}: the folder {} does not exist; create it first",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

fn default_file_name(format: Format) -> &'static str {
    match format {
        Format::Terminal => "report.txt",
        Format::Json => "report.json",
        Format::Markdown => "handover.md",
        Format::Html => "handover.html",
        Format::Sarif => "launchready.sarif",
        Format::Junit => "junit.xml",
    }
}

fn template_error(e: TemplateError) -> AppError {
    AppError::Usage(format!("template {e}"))
}

impl Outputs {
    /// Renders and writes each output.
    pub fn write(&self, report: &Report, out: &Output) -> Result<(), AppError> {
        for spec in &self.specs {
            // JSON is written as it is serialised, never held whole (a fleet's report).
            if spec.format == Format::Json {
                match &spec.path {
                    Some(path) => std::fs::File::create(path)
                        .and_then(|mut file| launchready::report::json::write(report, &mut file))
                        .map_err(|e| {
                            AppError::Usage(format!("cannot write {}: {e}", path.display()))
                        })?,
                    None => out.print_json(report)?,
                }
                continue;
            }
            let text = self
                .renderer
                .render(report, spec.format)
                .map_err(template_error)?;
            match &spec.path {
                Some(path) => {
                    // Only the terminal report has styles; a file gets it plain.
                    let text = match spec.format {
                        Format::Terminal => anstream::adapter::strip_str(&text).to_string(),
                        _ => text,
                    };
                    std::fs::write(path, text).map_err(|e| {
                        AppError::Usage(format!("cannot write {}: {e}", path.display()))
                    })?;
                }
                None => out.print(&text)?,
            }
        }
        Ok(())
    }
}
