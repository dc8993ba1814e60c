//! `maverick chat -i`: a conversation, typed at a terminal or scripted
//! through stdin one line per turn.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use crate::cmd_chat::Session;
use crate::conversation::{Conversation, Role};
use crate::exit::{Failure, PREFIX};
use crate::output::{self, Paint};

const HELP: &str = "\
/system TEXT   set the system message (/system alone removes it)
/model NAME    use another model from the next turn (/model alone shows it)
/save FILE     write the conversation as JSON (resume it with --continue FILE)
/load FILE     replace the conversation with a saved one
/clear         forget the turns, keep the system message
/usage         tokens, credits and USD of this session
/exit          end the session (also /quit, Ctrl-D)
Ctrl-C stops the answer being written. A line starting with // sends one /.";

enum Step {
    Continue,
    Exit,
}

fn say(text: &str) {
    output::note(&Paint::stderr().dim(text));
}

pub async fn run(mut session: Session, first: Option<String>) -> Result<ExitCode, Failure> {
    let terminal = std::io::stdin().is_terminal();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<String>>(1);
    // A blocking reader: stdin has no portable async form. It reads one
    // line ahead at most.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let failed = line.is_err();
            if tx.blocking_send(line).is_err() || failed {
                break;
            }
        }
    });
    if terminal {
        say(&format!(
            "maverick: {} at {}; /help for commands, Ctrl-D to leave",
            session.model_name(),
            session.client.base_url()
        ));
    }
    let mut failed = false;
    // `--image`s go with the first turn sent.
    let mut images = true;
    let mut pending = first;
    loop {
        let line = match pending.take() {
            Some(line) => line,
            None => {
                if terminal {
                    eprint!("{}", Paint::stderr().bold("> "));
                }
                tokio::select! {
                    line = rx.recv() => match line {
                        None => break,
                        Some(Ok(line)) => line,
                        Some(Err(e)) => {
                            output::note(&format!("{PREFIX}cannot read stdin: {e}"));
                            failed = true;
                            break;
                        }
                    },
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!();
                        say("(Ctrl-D or /exit ends the session)");
                        continue;
                    }
                }
            }
        };
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            continue;
        }
        let text = if let Some(rest) = line.strip_prefix("//") {
            format!("/{rest}")
        } else if line.starts_with('/') {
            match command(&mut session, line) {
                Ok(Step::Continue) => continue,
                Ok(Step::Exit) => break,
                Err(Failure::Closed) => return Ok(ExitCode::SUCCESS),
                Err(f) => {
                    report(f);
                    continue;
                }
            }
        } else {
            line.to_string()
        };
        let turn = session.turn(&text, images);
        let outcome = tokio::select! {
            outcome = turn => outcome,
            _ = tokio::signal::ctrl_c() => {
                let _ = output::out("\n");
                say("(answer stopped; this turn is not kept)");
                continue;
            }
        };
        match outcome {
            Ok(response) => {
                images = false;
                let answer = response.text().unwrap_or_default();
                if answer.is_empty() && !response.tool_calls().is_empty() {
                    say("(tool calls are shown, not run; this turn is not kept)");
                } else {
                    session.conversation.push(Role::User, text);
                    session.conversation.push(Role::Assistant, answer);
                }
            }
            Err(Failure::Closed) => return Ok(ExitCode::SUCCESS),
            Err(f) => {
                failed = true;
                report(f);
            }
        }
    }
    if session.usage {
        say(&session.total.line("session usage"));
    }
    if let Some(path) = session.save.clone() {
        save(&session.conversation, &path)?;
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn report(f: Failure) {
    match f {
        Failure::Usage(m) | Failure::Network(m) => output::note(&format!("{PREFIX}{m}")),
        Failure::Closed => {}
    }
}

fn save(conversation: &Conversation, path: &Path) -> Result<(), Failure> {
    conversation
        .save(path)
        .map_err(|e| Failure::Usage(format!("cannot save to {}: {e}", path.display())))
}

fn command(session: &mut Session, line: &str) -> Result<Step, Failure> {
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((name, arg)) => (name, arg.trim()),
        None => (line, ""),
    };
    let need = |what: &str| Failure::Usage(format!("{name} needs {what}"));
    match name {
        "/exit" | "/quit" => return Ok(Step::Exit),
        "/help" => say(HELP),
        "/system" => {
            session
                .conversation
                .set_system((!arg.is_empty()).then(|| arg.to_string()));
            say(if arg.is_empty() {
                "(system message removed)"
            } else {
                "(system message set)"
            });
        }
        "/model" => {
            if !arg.is_empty() {
                session.model = Some(arg.to_string());
                session.conversation.model = Some(arg.to_string());
            }
            say(&format!("(model: {})", session.model_name()));
        }
        "/save" => {
            if arg.is_empty() {
                return Err(need("a FILE"));
            }
            save(&session.conversation, Path::new(arg))?;
            say(&format!(
                "(saved {} turns to {arg}; resume with --continue {arg})",
                session.conversation.turns().count()
            ));
        }
        "/load" => {
            if arg.is_empty() {
                return Err(need("a FILE"));
            }
            let loaded = Conversation::load(Path::new(arg), "/load")?;
            // The model stays: the file may come from another host.
            session.conversation = loaded;
            session.conversation.model = Some(session.model_name().to_string());
            say(&format!("(loaded {} turns)", session.conversation.turns().count()));
        }
        "/clear" => {
            let system = session.conversation.system().map(str::to_string);
            session.conversation.messages.clear();
            session.conversation.set_system(system);
            say("(conversation cleared)");
        }
        "/usage" => say(&session.total.line("session usage")),
        other => {
            return Err(Failure::Usage(format!(
                "unknown command {other}; /help lists them (start a line with // to send a /)"
            )))
        }
    }
    Ok(Step::Continue)
}
