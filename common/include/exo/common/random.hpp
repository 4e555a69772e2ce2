// Randomness behind one small interface: seeded and reproducible for the mocks and scenarios,
// cryptographically secure for secrets the client or a mock hands out.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace exo {

// Thread-safe source of random bits.
class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t Next() = 0;

  // `n` random bytes.
  std::string Bytes(std::size_t n);
  // Uniform in [0, bound); bound 0 yields 0.
  std::uint64_t Below(std::uint64_t bound);
  // Uniform in [0, 1).
  double Unit();
  // A version-4 UUID in lower-case 8-4-4-4-12 form.
  std::string Uuid();
};

// Deterministic for a given seed (xoshiro256**, seeded through splitmix64).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed);
  std::uint64_t Next() override;

 private:
  std::mutex mu_;
  std::uint64_t s_[4];
};

// OpenSSL's RAND_bytes: for secrets, keys and nonces that must not be predictable.
class SecureRandom final : public Random {
 public:
  std::uint64_t Next() override;
  static SecureRandom& Instance();
};

}  // namespace exo
