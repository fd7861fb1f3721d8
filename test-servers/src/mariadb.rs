//! A private MariaDB: `mariadb-install-db` into a temp dir, then `mariadbd`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::process::{self, PORTS, STARTUP};

/// A MariaDB server of our own on a loopback port (`root` with no password, database
/// `test`), durable (`innodb_flush_log_at_trx_commit=1`); killed and removed on drop.
pub struct MariaDb {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl MariaDb {
    /// Initialises a data directory, starts the server and creates database `test`.
    pub fn start() -> Self {
        let install = process::require("mariadb-install-db", "mariadb-server");
        let dir = process::temp_dir("session-test-mariadb");
        process::run(
            Command::new(install)
                .arg("--no-defaults")
                .arg(format!("--datadir={}", dir.join("data").display()))
                .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
                .args(process::is_root().then_some("--user=root")),
        );
        let mut server = MariaDb {
            dir,
            port: process::free_port(PORTS, false),
            child: None,
        };
        server.restart();
        let client = process::require("mariadb", "mariadb-client");
        process::run(
            Command::new(client)
                .args(["-h", "127.0.0.1", "-u", "root"])
                .arg(format!("-P{}", server.port))
                .args(["-e", "CREATE DATABASE IF NOT EXISTS test"]),
        );
        server
    }

    /// `mysql://root@127.0.0.1:<port>/test`.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/test", self.port)
    }

    /// SIGKILL: no shutdown, connections drop mid-flight; InnoDB recovers on restart.
    pub fn kill(&mut self) {
        process::kill_child(self.child.take());
    }

    /// Starts the server again on the same port and data directory and waits until it
    /// accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let binary = process::require("mariadbd", "mariadb-server");
        let log = self.dir.join("server.log");
        let mut child = Command::new(binary)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!(
                "--socket={}",
                self.dir.join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mysqld.pid").display()
            ))
            .arg(format!("--log-error={}", log.display()))
            .args(["--innodb-flush-log-at-trx-commit=1", "--skip-name-resolve"])
            .args(process::is_root().then_some("--user=root"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn mariadbd: {e}"));
        process::watchdog(child.id(), Some(&self.dir));
        let port = self.port;
        let up = process::wait_until(STARTUP, || {
            process::accepts(port) || matches!(child.try_wait(), Ok(Some(_)))
        });
        if !up || !matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            panic!(
                "mariadbd did not start on port {port}; its log:\n{}",
                process::log_tail(&log)
            );
        }
        self.child = Some(child);
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
