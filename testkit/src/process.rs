//! Child processes that never outlive the test that started them.

use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A free port on the loopback interface (bound and released; the caller binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A child process killed and reaped on drop, also when the test panics.
#[derive(Debug)]
pub struct Process {
    child: Option<Child>,
}

impl Process {
    pub fn spawn(command: &mut Command) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
        Self { child: Some(child) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    /// Kills the process now and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits (at most 15 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running process");
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {} failed", child.id());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("process {} did not stop on SIGTERM", child.id());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most `timeout`) for the process to exit on its own; kills it and panics if it
    /// does not. For commands that must refuse to start.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("running process");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                self.stop();
                panic!("process did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The child itself, e.g. to take a piped standard stream.
    pub fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("running process")
    }

    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `url` until it answers below 500; panics if `process` exits first or after 60 s.
pub(crate) async fn wait_until_http_answers(url: &str, what: &str, process: &mut Process) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().as_u16() < 500
        {
            return;
        }
        assert!(!process.exited(), "{what} exited during start-up");
        assert!(Instant::now() < deadline, "{what} did not answer at {url}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
