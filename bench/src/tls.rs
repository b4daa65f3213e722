//! A TLS endpoint on loopback for the cold-start benchmark: a server certificate under a CA made
//! for the run (RSA 2048, as AWS endpoints present; made with the `openssl` command) and a proxy that ends TLS
//! and forwards the bytes to a plain-HTTP emulator, so the SDK pays a real handshake.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

/// A server certificate for `127.0.0.1` and `localhost` issued by a certificate authority
/// made for the run (webpki refuses a CA certificate as the server's own, and AWS endpoints
/// present a leaf under a CA too), as PEM files in a folder.
#[derive(Debug, Clone)]
pub struct Certificates {
    /// The authority to trust (what goes into the client's roots).
    pub ca: PathBuf,
    /// The server's certificate and key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Certificates {
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        let path = |name: &str| dir.join(name);
        let extensions = path("server.ext");
        std::fs::write(
            &extensions,
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n\
             subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )?;
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=gota-bench CA",
            "-keyout",
            &s(&path("ca.key")),
            "-out",
            &s(&path("ca.pem")),
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &s(&path("key.pem")),
            "-out",
            &s(&path("server.csr")),
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &s(&path("server.csr")),
            "-CA",
            &s(&path("ca.pem")),
            "-CAkey",
            &s(&path("ca.key")),
            "-set_serial",
            "2",
            "-extfile",
            &s(&extensions),
            "-out",
            &s(&path("cert.pem")),
        ])?;
        Ok(Self {
            ca: path("ca.pem"),
            cert: path("cert.pem"),
            key: path("key.pem"),
        })
    }
}

fn s(path: &Path) -> String {
    path.display().to_string()
}

fn openssl(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .context("running `openssl` (the openssl command makes the bench's certificates)")?;
    if !output.status.success() {
        bail!(
            "openssl {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A TLS listener on loopback forwarding each connection to `upstream`; runs on its own
/// thread until the process ends (the benchmark is a short-lived program).
pub fn start_proxy(certificate: &Certificates, upstream: SocketAddr) -> anyhow::Result<SocketAddr> {
    let chain = CertificateDer::pem_file_iter(&certificate.cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&certificate.key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = client.set_nodelay(true);
                    let Ok(mut tls) = acceptor.accept(client).await else {
                        return;
                    };
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = server.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
    });
    Ok(addr)
}
