//! Just enough HTTP/1.1 over std sockets for the driver: one-shot client requests (set-up and
//! readiness probes) and reading the requests a Lambda runtime client sends to the fake
//! runtime API. Nothing here is on a measured server's path.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// A request read off a connection.
#[derive(Debug)]
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

/// A response to a client request.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends one request with `Connection: close` and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut reader = BufReader::new(stream);
    let (status, _, body) = read_message(&mut reader)?.context("connection closed early")?;
    Ok(Reply {
        status: status_of(&status)?,
        body,
    })
}

/// The status code of a response's start line (`HTTP/1.1 200 OK` → 200).
pub(crate) fn status_of(start_line: &str) -> anyhow::Result<u16> {
    start_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("bad status line {start_line:?}"))
}

/// A dev token for `username` from a standalone server's `POST /dev/token`.
pub(crate) fn dev_token(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({ "username": username }).to_string();
    let reply = request(
        addr,
        "POST",
        "/dev/token",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )?;
    anyhow::ensure!(
        reply.status == 200,
        "POST /dev/token answered {}",
        reply.status
    );
    let reply: serde_json::Value = serde_json::from_slice(&reply.body)?;
    Ok(reply
        .get("token")
        .and_then(serde_json::Value::as_str)
        .context("no token")?
        .to_owned())
}

/// Reads the next request on a kept-alive connection; `None` when the peer closed it.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Option<Incoming>> {
    let Some((line, _, body)) = read_message(reader)? else {
        return Ok(None);
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        bail!("bad request line {line:?}");
    };
    Ok(Some(Incoming {
        method: method.to_owned(),
        path: path.to_owned(),
        body,
    }))
}

/// Start line, headers (lower-cased names) and body (Content-Length, chunked, or to EOF).
pub(crate) type Message = (String, Vec<(String, String)>, Vec<u8>);

pub(crate) fn read_message(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Option<Message>> {
    let mut start = String::new();
    if reader.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let is_request = !start.starts_with("HTTP/");
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .context("bad chunk size")?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            chunk.truncate(size);
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk);
        }
    } else if let Some(length) = header("content-length") {
        body.resize(length.parse().context("bad content-length")?, 0);
        reader.read_exact(&mut body)?;
    } else if !is_request {
        reader.read_to_end(&mut body)?;
    }
    Ok(Some((start.trim_end().to_owned(), headers, body)))
}
