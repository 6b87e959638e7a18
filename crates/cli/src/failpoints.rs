//! Crash points for tests: a test build of the binary (the `failpoints` feature of the `fail`
//! crate, enabled only by this crate's dev-dependency) reads `FLOWD_FAILPOINTS` at start-up
//! and stops the process at the named points of a run.
//!
//! `FLOWD_FAILPOINTS=point=action;point=action…`, where the action is `crash` (the process
//! sends itself SIGKILL: no destructor, no flush, nothing cleaned up) or any action of the
//! `fail` crate (`panic`, `return`, `sleep(ms)`, `1*panic`…). The points are named where they
//! stand (`fail::fail_point!`); ARCHITECTURE.md lists them. A release build compiles the
//! points away and ignores the variable.

/// The variable read at start-up.
pub const VARIABLE: &str = "FLOWD_FAILPOINTS";

/// Configures the points `FLOWD_FAILPOINTS` names; does nothing in a build without them.
pub fn install() {
    if !fail::has_failpoints() {
        return;
    }
    let Ok(configuration) = std::env::var(VARIABLE) else {
        return;
    };
    for entry in configuration
        .split(';')
        .filter(|entry| !entry.trim().is_empty())
    {
        let (point, action) = entry.split_once('=').unwrap_or((entry, "crash"));
        let (point, action) = (point.trim().to_owned(), action.trim());
        let configured = if action == "crash" {
            fail::cfg_callback(point.clone(), crash)
        } else {
            fail::cfg(point.clone(), action)
        };
        if let Err(error) = configured {
            eprintln!("{VARIABLE}: {point}: {error}");
            std::process::exit(2);
        }
    }
}

/// Stops the process the way `kill -9` would.
fn crash() {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    std::process::abort();
}
