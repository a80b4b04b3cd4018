//! [`TestServer`]: the real socket server in a temporary directory.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::call::{TestCall, TestResponse};
use super::wire;
use crate::config::Env;
use crate::function::Function;
use crate::serve::serve;
use crate::socket::Socket;

/// A function served on a real `lsnr.sock` in a fresh temporary directory,
/// on the current tokio runtime. Calls are sent as the Fn server sends them
/// (see [`TestCall::to_wire`]).
#[derive(Debug)]
pub struct TestServer {
    dir: PathBuf,
    socket: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

impl TestServer {
    /// Serves `function` with an empty config.
    pub async fn start(function: Function) -> io::Result<Self> {
        Self::start_with_config(function, std::iter::empty::<(String, String)>()).await
    }

    /// Serves `function`; `config` is what the server would pass as
    /// environment variables.
    pub async fn start_with_config<K, V>(
        function: Function,
        config: impl IntoIterator<Item = (K, V)>,
    ) -> io::Result<Self>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("fdk-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let socket_path = dir.join("lsnr.sock");
        let socket = Socket::bind(&socket_path).map_err(io::Error::other)?;
        let env = Env::from_vars(config.into_iter().map(|(k, v)| (k.into(), v.into())));
        let (app, shutdown) = function.into_app(Arc::new(env));
        let app = Arc::new(app);
        let (stop, stopped) = oneshot::channel::<()>();
        let signal = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(socket, app, signal, shutdown));
        Ok(Self {
            dir,
            socket: socket_path,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The path of `lsnr.sock`.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// Sends `call` on a new connection and reads the response.
    pub async fn call(&self, call: TestCall) -> io::Result<TestResponse> {
        self.connect().await?.call(call).await
    }

    /// Opens a connection for several calls (keep-alive).
    pub async fn connect(&self) -> io::Result<TestConnection> {
        TestConnection::open(&self.socket).await
    }

    /// Stops the server as SIGTERM would: in-flight calls finish, the
    /// socket files are removed, and the function's
    /// [shutdown hook](crate::Function::on_shutdown) runs, all within its
    /// shutdown grace.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One connection to a [`TestServer`] (or any function's socket), for calls
/// in sequence.
#[derive(Debug)]
pub struct TestConnection {
    stream: UnixStream,
    buffered: Vec<u8>,
}

impl TestConnection {
    /// Connects to the socket at `path` (`lsnr.sock` of a running function).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self {
            stream: UnixStream::connect(path).await?,
            buffered: Vec::new(),
        })
    }

    /// Sends `call` and reads its response.
    pub async fn call(&mut self, call: TestCall) -> io::Result<TestResponse> {
        self.send_raw(&call.to_wire()).await?;
        self.read_response().await
    }

    /// Writes raw bytes (a request of your own, or half of one).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(bytes).await
    }

    /// Reads one response.
    pub async fn read_response(&mut self) -> io::Result<TestResponse> {
        wire::read_response(&mut self.stream, &mut self.buffered).await
    }
}
