//! A program on a real terminal: tmux runs it in a pseudo-terminal, keys
//! are sent to it, and the screen is read back. Each `Tmux` has a server of
//! its own, so tests on several threads (or processes) never share one.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` (through the shell) in a terminal `columns` wide and 40 rows high.
    pub(crate) fn start(command: &str, columns: u16) -> Tmux {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "tmux drives labcheck on a terminal (the quiz, watch) and is not installed: \
             run `apt-get install tmux` (scripts/test installs it)"
        );
        let tmux = Tmux {
            socket: format!(
                "labcheck-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let status = tmux
            .cmd()
            .args([
                "new-session",
                "-d",
                "-x",
                &columns.to_string(),
                "-y",
                "40",
                "-s",
                "t",
                command,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]);
        cmd
    }

    /// Sends keys by tmux's names (`Enter`, `Down`, `q`).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let status = self.cmd().args(["send-keys", "-t", "t"]).args(keys).status().unwrap();
        assert!(status.success());
    }

    /// Types `text` as it is.
    pub(crate) fn type_text(&self, text: &str) {
        let status = self.cmd().args(["send-keys", "-t", "t", "-l", text]).status().unwrap();
        assert!(status.success());
    }

    /// What the terminal shows now.
    pub(crate) fn screen(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", "t"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen and what scrolled off it (200 lines), wrapped lines joined.
    pub(crate) fn scrollback(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-t", "t", "-S", "-200"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows every one of `what`, and returns it.
    pub(crate) fn wait_for_all(&self, what: &[&str]) -> String {
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if what.iter().all(|w| screen.contains(w)) {
                return screen;
            }
            assert!(Instant::now() < end, "waited 60 s for {what:?}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the scrollback shows `needle`, and returns it.
    pub(crate) fn wait_for(&self, needle: &str) -> String {
        self.wait_for_after("", needle)
    }

    /// Waits until `needle` shows after the last `anchor` in the scrollback
    /// (so that keys go to the prompt now on screen, not to an earlier one).
    pub(crate) fn wait_for_after(&self, anchor: &str, needle: &str) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.scrollback();
            let tail = match anchor {
                "" => screen.as_str(),
                _ => screen.rfind(anchor).map_or("", |i| &screen[i..]),
            };
            if tail.contains(needle) {
                return screen;
            }
            assert!(Instant::now() < end, "the screen never showed `{needle}`:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}
