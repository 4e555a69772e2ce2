#include "exo/common/random.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

namespace exo {

std::string Random::Bytes(std::size_t n) {
  std::string out;
  out.reserve(n + 8);
  while (out.size() < n) {
    std::uint64_t v = Next();
    for (int i = 0; i < 8 && out.size() < n; ++i) {
      out.push_back(static_cast<char>(v & 0xff));
      v >>= 8;
    }
  }
  return out;
}

std::uint64_t Random::Below(std::uint64_t bound) {
  if (bound == 0) return 0;
  // Rejection sampling keeps the distribution uniform.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t v;
  do v = Next();
  while (v >= limit);
  return v % bound;
}

double Random::Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

std::string Random::Uuid() {
  std::string b = Bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  char out[37];
  const auto* u = reinterpret_cast<const unsigned char*>(b.data());
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                u[14], u[15]);
  return out;
}

namespace {
std::uint64_t SplitMix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (auto& s : s_) s = SplitMix(seed);
}

std::uint64_t SeededRandom::Next() {
  std::lock_guard lock(mu_);
  const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

std::uint64_t SecureRandom::Next() {
  std::uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
    // Without entropy nothing secure can continue; this is not a recoverable condition.
    throw std::runtime_error("RAND_bytes failed");
  }
  return v;
}

SecureRandom& SecureRandom::Instance() {
  static SecureRandom r;
  return r;
}

}  // namespace exo
