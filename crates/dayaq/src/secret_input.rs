//! Reading passwords and passphrases: one line from standard input, without echo on a terminal.

use anyhow::{Context, bail};
use std::io::{BufRead, IsTerminal};

/// Reads one line. On a terminal the line is read without echo after `prompt` (on stderr);
/// from a pipe it is read as is. The line ending is removed, nothing else.
pub fn read_secret_line(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).context("cannot read from the terminal");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read standard input")?;
    Ok(strip_line_ending(line))
}

fn strip_line_ending(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

pub fn require_nonempty(s: String, what: &str) -> anyhow::Result<String> {
    if s.is_empty() {
        bail!("the {what} is empty");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_line_ending() {
        assert_eq!(strip_line_ending("a b \r\n".into()), "a b ");
        assert_eq!(strip_line_ending("pw\n".into()), "pw");
        assert_eq!(strip_line_ending("pw".into()), "pw");
    }
}
