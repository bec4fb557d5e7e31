//! A minimal SMTP server on 127.0.0.1 that keeps what it receives, so tests
//! can stop and start a relay at will (the CI's aiosmtpd runs throughout).

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

pub struct SmtpSink {
    received: Arc<Mutex<Vec<String>>>,
    server: JoinHandle<()>,
}

/// A service whose relay is the SMTP server on `port` of 127.0.0.1 (up or
/// not), retrying every second.
pub async fn spawn_app_with_relay(port: u16) -> crate::helpers::TestApp {
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    crate::helpers::spawn_app_with(&[
        ("mail.transport", "smtp"),
        ("mail.smtp_url", &smtp_url),
        ("mail.timeout", "2s"),
        ("mail.retry_initial", "1s"),
        ("mail.retry_max", "1s"),
        ("mail.poll_interval", "1s"),
    ])
    .await
}

/// A free port on 127.0.0.1 with nothing listening (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    pub async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("binding the sink");
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&received);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&keep)));
            }
        });
        Self { received, server }
    }

    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    pub fn stop(self) {
        self.server.abort();
    }
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut mail = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    let line = line.strip_prefix('.').unwrap_or(&line);
                    mail.push_str(line);
                    mail.push_str("\r\n");
                }
                received.lock().unwrap().push(mail);
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
