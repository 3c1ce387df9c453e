//! # echo-client — an example of a library built on polytls
//!
//! A client for a line-echo service over TLS. It is written once against
//! polytls; which TLS library it uses is its users' choice, by this crate's
//! own cargo features (`rustls`, the default; `openssl`; `boring`), which
//! it forwards to polytls. That is the whole per-backend cost of the
//! library: three lines in `Cargo.toml`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), echo_client::Error> {
//! let roots = polytls::Roots::platform()?;
//! let mut client = echo_client::EchoClient::connect("echo.example:7", "echo.example", roots).await?;
//! assert_eq!(client.echo("hello").await?, "hello");
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

use polytls::tokio_io::{DynTlsConnector, DynTlsStream, TlsConnector};
use polytls::{Backend, ClientConfig, Roots};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Errors of the client: TLS (with polytls' category) or the connection.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A connection to a line-echo service.
#[derive(Debug)]
pub struct EchoClient {
    stream: BufReader<DynTlsStream<TcpStream>>,
}

impl EchoClient {
    /// Connects to `addr`, verifying the server as `server_name` against
    /// `roots`, with the backend this build enabled (`POLYTLS_BACKEND`
    /// chooses among several).
    pub async fn connect(addr: &str, server_name: &str, roots: Roots) -> Result<Self, Error> {
        let backend = polytls::default_backend()?;
        let context = backend.client_context(&ClientConfig::new(roots))?;
        let connector: DynTlsConnector = TlsConnector::new(context);
        let tcp = TcpStream::connect(addr).await?;
        let stream = connector.connect(server_name, tcp).await?;
        Ok(Self {
            stream: BufReader::new(stream),
        })
    }

    /// Sends `line` and returns the echo.
    pub async fn echo(&mut self, line: &str) -> Result<String, Error> {
        self.stream
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .await?;
        let mut reply = String::new();
        self.stream.read_line(&mut reply).await?;
        Ok(reply.trim_end_matches('\n').to_owned())
    }

    /// Ends the connection cleanly (close_notify).
    pub async fn close(mut self) -> Result<(), Error> {
        self.stream.get_mut().shutdown().await?;
        Ok(())
    }
}
