//! Drift between an exercise and its reference (design contracts 1 and 2): the two sources
//! must be identical except for the bodies of the exercise's stubs.
//!
//! The exercise is cut into segments at its stubs' bodies; the reference must be those
//! segments in order, with one balanced `{…}` block (any body) where each stub body was.

use crate::lexer::line_of;
use crate::source::Parsed;

/// Where an exercise file and its reference first differ outside a stub body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    /// 1-based line in the exercise.
    pub exercise_line: usize,
    /// 1-based line in the reference.
    pub solution_line: usize,
    /// What differs.
    pub reason: String,
}

/// Compares an exercise file with its reference. `Err` on the first drift (or on a file
/// that cannot be tokenized).
pub fn compare(exercise: &str, solution: &str) -> Result<(), Drift> {
    let unreadable = |which: &str, error: String| Drift {
        exercise_line: 0,
        solution_line: 0,
        reason: format!("cannot read the {which}'s tokens: {error}"),
    };
    let parsed_exercise = Parsed::new(exercise).map_err(|e| unreadable("exercise", e))?;
    let parsed_solution = Parsed::new(solution).map_err(|e| unreadable("solution", e))?;
    let mut exercise_at = 0;
    let mut solution_at = 0;
    for stub in parsed_exercise.stubs() {
        let (body_start, body_end) = parsed_exercise.body_range(&stub.function);
        same_text(exercise, exercise_at, body_start, solution, solution_at)?;
        solution_at += body_start - exercise_at;
        solution_at = block_end(&parsed_solution, solution_at).ok_or_else(|| Drift {
            exercise_line: line_of(exercise, body_start),
            solution_line: line_of(solution, solution_at),
            reason: format!(
                "the solution has no `{{…}}` body here for the stub `{}`",
                stub.function.name
            ),
        })?;
        exercise_at = body_end;
    }
    same_text(exercise, exercise_at, exercise.len(), solution, solution_at)?;
    if solution.len() - solution_at > exercise.len() - exercise_at {
        let extra = solution_at + (exercise.len() - exercise_at);
        return Err(Drift {
            exercise_line: line_of(exercise, exercise.len()),
            solution_line: line_of(solution, extra),
            reason: format!(
                "the solution goes on after the exercise ends: {:?}",
                solution[extra..].trim_start().lines().next().unwrap_or("")
            ),
        });
    }
    Ok(())
}

/// Is `exercise[from..to]` found verbatim at `solution[solution_at..]`?
fn same_text(
    exercise: &str,
    from: usize,
    to: usize,
    solution: &str,
    solution_at: usize,
) -> Result<(), Drift> {
    let expected = &exercise.as_bytes()[from..to];
    let actual = &solution.as_bytes()[solution_at..];
    let differ = expected.iter().zip(actual).position(|(a, b)| a != b);
    let Some(offset) = differ.or((actual.len() < expected.len()).then_some(actual.len())) else {
        return Ok(());
    };
    let (in_exercise, in_solution) = (from + offset, solution_at + offset);
    if in_solution >= solution.len() {
        return Err(Drift {
            exercise_line: line_of(exercise, in_exercise),
            solution_line: line_of(solution, in_solution),
            reason: format!(
                "the solution ends where the exercise has {:?}",
                line_at(exercise, in_exercise)
            ),
        });
    }
    Err(Drift {
        exercise_line: line_of(exercise, in_exercise),
        solution_line: line_of(solution, in_solution),
        reason: format!(
            "exercise has {:?}, solution has {:?}",
            line_at(exercise, in_exercise),
            line_at(solution, in_solution)
        ),
    })
}

/// If a `{` token starts at byte `at`, the byte just past its matching `}`.
fn block_end(parsed: &Parsed<'_>, at: usize) -> Option<usize> {
    let index = parsed.tokens.iter().position(|t| t.start == at)?;
    if parsed.tokens[index].text(parsed.source) != "{" {
        return None;
    }
    Some(parsed.tokens[parsed.matches[index]?].end)
}

/// The whole line holding byte `offset`, trimmed.
fn line_at(text: &str, offset: usize) -> &str {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    text[start..end].trim()
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = r#"/// The log.
impl Log {
    /// The last index.
    pub fn last_index(&self) -> Index {
        // The "}" in this string must not end the body.
        self.entries.len() as Index
    }

    /// Untouched in the exercise.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
"#;

    const EXERCISE: &str = r#"/// The log.
impl Log {
    /// The last index.
    pub fn last_index(&self) -> Index {
        // TODO: count the entries; an empty log has last index 0 (Figure 2).
        todo!("return the index of the last entry (§5.3)")
    }

    /// Untouched in the exercise.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
"#;

    #[test]
    fn an_exercise_that_differs_only_in_stub_bodies_does_not_drift() {
        assert_eq!(compare(EXERCISE, SOLUTION), Ok(()));
        assert_eq!(compare(SOLUTION, SOLUTION), Ok(()));
    }

    #[test]
    fn a_changed_line_outside_the_stubs_is_reported_with_both_line_numbers() {
        let drifted = SOLUTION.replace("self.entries.is_empty()", "self.last_index() == 0");
        let drift = compare(EXERCISE, &drifted).unwrap_err();
        assert_eq!((drift.exercise_line, drift.solution_line), (11, 11));
        assert!(drift.reason.contains("self.last_index() == 0"), "{drift:?}");
    }

    #[test]
    fn a_changed_signature_of_a_stub_is_drift() {
        let drifted = SOLUTION.replace("last_index(&self)", "last_index(&mut self)");
        let drift = compare(EXERCISE, &drifted).unwrap_err();
        assert_eq!(drift.exercise_line, 4);
    }

    #[test]
    fn a_changed_doc_comment_is_drift() {
        let drifted = SOLUTION.replace("/// The last index.", "/// The last index, or 0.");
        assert_eq!(compare(EXERCISE, &drifted).unwrap_err().exercise_line, 3);
    }

    #[test]
    fn extra_or_missing_text_at_the_end_is_drift() {
        let longer = format!("{SOLUTION}\nfn extra() {{}}\n");
        let drift = compare(EXERCISE, &longer).unwrap_err();
        assert_eq!(drift.solution_line, 14);
        assert!(drift.reason.contains("fn extra() {}"), "{drift:?}");
        let shorter = SOLUTION.trim_end_matches("}\n");
        assert!(compare(EXERCISE, shorter).is_err());
    }

    #[test]
    fn a_body_edited_in_the_exercise_without_a_todo_is_drift() {
        let filled = EXERCISE.replace(
            "// TODO: count the entries; an empty log has last index 0 (Figure 2).\n        todo!(\"return the index of the last entry (§5.3)\")",
            "self.entries.len() as u64",
        );
        let drift = compare(&filled, SOLUTION).unwrap_err();
        assert_eq!(drift.exercise_line, 5);
    }
}
