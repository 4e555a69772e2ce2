// The closed-loop load both server benchmarks drive: N keep-alive HTTPS clients, each sending its
// next request as soon as the previous one answered, for a fixed wall time; throughput and latency
// percentiles over every successful exchange. Measures only; asserts nothing.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace exo::bench {

struct LoadResult {
  double per_second = 0;
  std::uint64_t ok = 0, failed = 0;
  double p50_ms = 0, p99_ms = 0;
  double mean_response_bytes = 0;
};

// One exchange on `client` by connection `connection` (its `n`th): the response size when it
// succeeded, nullopt when it did not.
using Exchange = std::function<std::optional<std::size_t>(httplib::SSLClient& client,
                                                          int connection, std::uint64_t n)>;

inline LoadResult RunLoad(int port, const std::string& ca, int connections, double seconds,
                          const Exchange& exchange) {
  using Steady = std::chrono::steady_clock;
  std::atomic<std::uint64_t> ok{0}, failed{0}, bytes{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
  const auto deadline = Steady::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      httplib::SSLClient cli("127.0.0.1", port);
      cli.set_ca_cert_path(ca.c_str());
      cli.enable_server_certificate_verification(true);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      for (std::uint64_t n = 0; Steady::now() < deadline; ++n) {
        const auto t0 = Steady::now();
        const std::optional<std::size_t> size = exchange(cli, i, n);
        const auto dt = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        if (size) {
          ++ok;
          bytes += *size;
          latencies[static_cast<std::size_t>(i)].push_back(dt);
        } else {
          ++failed;
        }
      }
    });
  }
  const auto start = Steady::now();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  LoadResult r;
  r.ok = ok;
  r.failed = failed;
  r.per_second = static_cast<double>(ok) / elapsed;
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    r.mean_response_bytes = static_cast<double>(bytes) / static_cast<double>(ok);
  }
  return r;
}

}  // namespace exo::bench
