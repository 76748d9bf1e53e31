// Test-only UDP helpers: a free port, sending datagrams, holding a port so a source cannot bind it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace PmmTest
{
/** A UDP port nothing listens on right now (bound to port 0, read back, released). */
inline int FreeUdpPort()
{
	const int Socket = ::socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in Address{};
	Address.sin_family = AF_INET;
	Address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	::bind(Socket, reinterpret_cast<sockaddr*>(&Address), sizeof(Address));
	socklen_t Length = sizeof(Address);
	::getsockname(Socket, reinterpret_cast<sockaddr*>(&Address), &Length);
	::close(Socket);
	return ntohs(Address.sin_port);
}

inline bool SendUdp(int Port, const std::vector<uint8_t>& Datagram)
{
	const int Socket = ::socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in Address{};
	Address.sin_family = AF_INET;
	Address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	Address.sin_port = htons(uint16_t(Port));
	const ssize_t Sent = ::sendto(Socket, Datagram.data(), Datagram.size(), 0, reinterpret_cast<sockaddr*>(&Address), sizeof(Address));
	::close(Socket);
	return Sent == ssize_t(Datagram.size());
}

/** Binds 127.0.0.1:Port for as long as it lives (another program holding the port). */
class FPortHolder
{
public:
	explicit FPortHolder(int Port) : Socket(::socket(AF_INET, SOCK_DGRAM, 0))
	{
		sockaddr_in Address{};
		Address.sin_family = AF_INET;
		Address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		Address.sin_port = htons(uint16_t(Port));
		bBound = ::bind(Socket, reinterpret_cast<sockaddr*>(&Address), sizeof(Address)) == 0;
	}
	~FPortHolder() { ::close(Socket); }
	FPortHolder(const FPortHolder&) = delete;
	FPortHolder& operator=(const FPortHolder&) = delete;
	bool IsBound() const { return bBound; }

private:
	int Socket;
	bool bBound = false;
};
}  // namespace PmmTest
