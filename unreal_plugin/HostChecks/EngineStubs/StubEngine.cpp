// The out-of-line parts of the host-check engine stubs: strings, names, logging, time, the modular
// features registry and POSIX sockets.

#include "CoreMinimal.h"
#include "Common/UdpSocketBuilder.h"
#include "Common/UdpSocketReceiver.h"
#include "Features/IModularFeatures.h"
#include "HAL/PlatformProcess.h"
#include "HAL/PlatformTime.h"
#include "ILiveLinkClient.h"
#include "IPAddress.h"
#include "Interfaces/IPv4/IPv4Address.h"
#include "Misc/DateTime.h"
#include "PmmStubHooks.h"
#include "SocketSubsystem.h"
#include "Sockets.h"
#include "UObject/Object.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

DECLARE_LOG_CATEGORY_EXTERN(LogStubSockets, Log, All);
DEFINE_LOG_CATEGORY(LogStubSockets);

namespace PmmStub
{
[[noreturn]] void Fatal(const char* File, int Line, const char* What)
{
	std::fprintf(stderr, "%s:%d: fatal (the engine would stop here too): %s\n", File, Line, What);
	std::fflush(stderr);
	std::abort();
}

std::string ToUtf8(const std::u16string& Text)
{
	std::string Out;
	for (size_t Index = 0; Index < Text.size(); ++Index)
	{
		uint32 CodePoint = Text[Index];
		if (CodePoint >= 0xD800 && CodePoint <= 0xDBFF && Index + 1 < Text.size() && Text[Index + 1] >= 0xDC00 && Text[Index + 1] <= 0xDFFF)
		{
			CodePoint = 0x10000 + ((CodePoint - 0xD800) << 10) + (uint32(Text[Index + 1]) - 0xDC00);
			++Index;
		}
		else if (CodePoint >= 0xD800 && CodePoint <= 0xDFFF)
		{
			CodePoint = 0xFFFD;
		}
		if (CodePoint < 0x80)
		{
			Out.push_back(char(CodePoint));
		}
		else if (CodePoint < 0x800)
		{
			Out.push_back(char(0xC0 | (CodePoint >> 6)));
			Out.push_back(char(0x80 | (CodePoint & 0x3F)));
		}
		else if (CodePoint < 0x10000)
		{
			Out.push_back(char(0xE0 | (CodePoint >> 12)));
			Out.push_back(char(0x80 | ((CodePoint >> 6) & 0x3F)));
			Out.push_back(char(0x80 | (CodePoint & 0x3F)));
		}
		else
		{
			Out.push_back(char(0xF0 | (CodePoint >> 18)));
			Out.push_back(char(0x80 | ((CodePoint >> 12) & 0x3F)));
			Out.push_back(char(0x80 | ((CodePoint >> 6) & 0x3F)));
			Out.push_back(char(0x80 | (CodePoint & 0x3F)));
		}
	}
	return Out;
}

/** UTF-8 to UTF-16; a malformed sequence becomes U+FFFD, as the engine's converter substitutes too. */
std::u16string FromUtf8(const char* Text)
{
	std::u16string Out;
	const unsigned char* Bytes = reinterpret_cast<const unsigned char*>(Text != nullptr ? Text : "");
	while (*Bytes != 0)
	{
		uint32 CodePoint = 0xFFFD;
		size_t Length = 1;
		if (Bytes[0] < 0x80)
		{
			CodePoint = Bytes[0];
		}
		else
		{
			const size_t Wanted = (Bytes[0] & 0xE0) == 0xC0 ? 2 : (Bytes[0] & 0xF0) == 0xE0 ? 3 : (Bytes[0] & 0xF8) == 0xF0 ? 4 : 0;
			size_t Have = 1;
			while (Wanted > 0 && Have < Wanted && (Bytes[Have] & 0xC0) == 0x80)
			{
				++Have;
			}
			if (Wanted > 0 && Have == Wanted)
			{
				CodePoint = Bytes[0] & (Wanted == 2 ? 0x1F : Wanted == 3 ? 0x0F : 0x07);
				for (size_t Index = 1; Index < Wanted; ++Index)
				{
					CodePoint = (CodePoint << 6) | (Bytes[Index] & 0x3F);
				}
				Length = Wanted;
				if (CodePoint > 0x10FFFF || (CodePoint >= 0xD800 && CodePoint <= 0xDFFF))
				{
					CodePoint = 0xFFFD;
				}
			}
			else
			{
				Length = Have;
			}
		}
		if (CodePoint >= 0x10000)
		{
			CodePoint -= 0x10000;
			Out.push_back(char16_t(0xD800 + (CodePoint >> 10)));
			Out.push_back(char16_t(0xDC00 + (CodePoint & 0x3FF)));
		}
		else
		{
			Out.push_back(char16_t(CodePoint));
		}
		Bytes += Length;
	}
	return Out;
}

std::u16string FormatChecked(const TCHAR* Format, const std::vector<FFormatArgument>& Arguments)
{
	const std::string Utf8Format = ToUtf8(Format);
	std::string Out;
	size_t Next = 0;
	for (size_t Index = 0; Index < Utf8Format.size(); ++Index)
	{
		if (Utf8Format[Index] != '%')
		{
			Out.push_back(Utf8Format[Index]);
			continue;
		}
		if (Index + 1 < Utf8Format.size() && Utf8Format[Index + 1] == '%')
		{
			Out.push_back('%');
			++Index;
			continue;
		}
		const size_t Start = Index++;
		while (Index < Utf8Format.size() && std::strchr("-+ #0123456789.hlzjtL", Utf8Format[Index]) != nullptr)
		{
			++Index;
		}
		if (Index >= Utf8Format.size() || Next >= Arguments.size())
		{
			Fatal(__FILE__, __LINE__, "FString::Printf: more conversions than arguments");
		}
		const char Conversion = Utf8Format[Index];
		std::string Spec = Utf8Format.substr(Start, Index - Start);
		Spec.erase(std::remove_if(Spec.begin(), Spec.end(), [](char C) { return std::strchr("hlzjtL", C) != nullptr; }), Spec.end());
		const FFormatArgument& Argument = Arguments[Next++];
		char Buffer[512];
		using EKind = FFormatArgument::EKind;
		switch (Conversion)
		{
		case 'd':
		case 'i':
			if (Argument.Kind != EKind::Signed && Argument.Kind != EKind::Unsigned)
			{
				Fatal(__FILE__, __LINE__, "FString::Printf: %d given a non-integer");
			}
			std::snprintf(Buffer, sizeof(Buffer), (Spec + "lld").c_str(),
				Argument.Kind == EKind::Signed ? Argument.SignedValue : static_cast<long long>(Argument.UnsignedValue));
			Out += Buffer;
			break;
		case 'u':
		case 'x':
		case 'X':
			if (Argument.Kind != EKind::Signed && Argument.Kind != EKind::Unsigned)
			{
				Fatal(__FILE__, __LINE__, "FString::Printf: %u/%x given a non-integer");
			}
			std::snprintf(Buffer, sizeof(Buffer), (Spec + "ll" + Conversion).c_str(),
				Argument.Kind == EKind::Unsigned ? Argument.UnsignedValue : static_cast<unsigned long long>(Argument.SignedValue));
			Out += Buffer;
			break;
		case 'f':
		case 'F':
		case 'e':
		case 'g':
			if (Argument.Kind != EKind::Floating)
			{
				Fatal(__FILE__, __LINE__, "FString::Printf: %f given a non-float");
			}
			std::snprintf(Buffer, sizeof(Buffer), (Spec + Conversion).c_str(), Argument.FloatingValue);
			Out += Buffer;
			break;
		case 's':
			if (Argument.Kind != EKind::String)
			{
				Fatal(__FILE__, __LINE__, "FString::Printf: %s given something other than a TCHAR string");
			}
			Out += ToUtf8(Argument.StringValue != nullptr ? Argument.StringValue : u"(null)");
			break;
		case 'p':
			std::snprintf(Buffer, sizeof(Buffer), "%p", Argument.PointerValue);
			Out += Buffer;
			break;
		default:
			Fatal(__FILE__, __LINE__, "FString::Printf: unsupported conversion");
		}
	}
	if (Next != Arguments.size())
	{
		Fatal(__FILE__, __LINE__, "FString::Printf: more arguments than conversions");
	}
	return FromUtf8(Out.c_str());
}

namespace
{
std::mutex LogMutex;
std::vector<std::string> LogStore;
bool bLogEcho = false;
std::atomic<double> SecondsOffset{0.0};
std::mutex ObjectsMutex;
std::unordered_map<const UObject*, uint64> LiveObjects;
uint64 NextObjectSerial = 0;

char16_t LowerAscii(char16_t Character)
{
	return (Character >= u'A' && Character <= u'Z') ? char16_t(Character - u'A' + u'a') : Character;
}
}  // namespace

void WriteLog(const FLogCategoryBase& Category, ELogVerbosity::Type Verbosity, const FString& Message)
{
	static const char* const Names[] = {"NoLogging", "Fatal", "Error", "Warning", "Display", "Log", "Verbose", "VeryVerbose", "All"};
	const std::string Line = std::string(Category.Name) + ": " + Names[Verbosity] + ": " + ToUtf8(Message.Stub());
	std::lock_guard<std::mutex> Guard(LogMutex);
	LogStore.push_back(Line);
	if (bLogEcho)
	{
		std::fprintf(stderr, "%s\n", Line.c_str());
	}
}

std::vector<std::string> LogLines()
{
	std::lock_guard<std::mutex> Guard(LogMutex);
	return LogStore;
}

void ClearLog()
{
	std::lock_guard<std::mutex> Guard(LogMutex);
	LogStore.clear();
}

void SetLogEcho(bool bEcho)
{
	std::lock_guard<std::mutex> Guard(LogMutex);
	bLogEcho = bEcho;
}

void SetSecondsOffset(double Seconds)
{
	SecondsOffset = Seconds;
}

std::atomic<double> SocketWaitExtraSeconds{0.0};

void SetSocketWaitExtraSeconds(double Seconds)
{
	SocketWaitExtraSeconds = Seconds;
}

uint64 SerialOf(const UObject* Object)
{
	std::lock_guard<std::mutex> Guard(ObjectsMutex);
	const auto Found = LiveObjects.find(Object);
	return Found != LiveObjects.end() ? Found->second : 0;
}

void RegisterObject(const UObject* Object)
{
	std::lock_guard<std::mutex> Guard(ObjectsMutex);
	LiveObjects[Object] = ++NextObjectSerial;
}

void UnregisterObject(const UObject* Object)
{
	std::lock_guard<std::mutex> Guard(ObjectsMutex);
	LiveObjects.erase(Object);
}
}  // namespace PmmStub

// --- strings and names -----------------------------------------------------------------------------------

bool operator==(const FString& Left, const FString& Right)
{
	const std::u16string& A = Left.Stub();
	const std::u16string& B = Right.Stub();
	if (A.size() != B.size())
	{
		return false;
	}
	for (size_t Index = 0; Index < A.size(); ++Index)
	{
		if (PmmStub::LowerAscii(A[Index]) != PmmStub::LowerAscii(B[Index]))
		{
			return false;
		}
	}
	return true;
}

const FName NAME_None;

FName::FName(const TCHAR* Text) : Characters(Text != nullptr ? Text : u"")
{
	if (Characters.size() >= size_t(NAME_SIZE))
	{
		PmmStub::Fatal(__FILE__, __LINE__, "FName longer than NAME_SIZE - 1 characters");
	}
	Lowered = Characters;
	for (char16_t& Character : Lowered)
	{
		Character = PmmStub::LowerAscii(Character);
	}
	if (Lowered == u"none")  // the engine reads "None" (any case) as NAME_None
	{
		Characters.clear();
		Lowered.clear();
	}
}

bool operator==(const FName& Left, const FName& Right)
{
	return Left.Lowered == Right.Lowered;
}

FGuid FGuid::NewGuid()
{
	static std::mutex Mutex;
	static std::mt19937 Generator(std::random_device{}());
	std::lock_guard<std::mutex> Guard(Mutex);
	FGuid Guid;
	while (!Guid.IsValid())
	{
		Guid = FGuid(uint32(Generator()), uint32(Generator()), uint32(Generator()), uint32(Generator()));
	}
	return Guid;
}

// --- time -------------------------------------------------------------------------------------------------

double FPlatformTime::Seconds()
{
	const auto Now = std::chrono::steady_clock::now().time_since_epoch();
	return std::chrono::duration<double>(Now).count() + PmmStub::SecondsOffset.load();
}

void FPlatformProcess::Sleep(float Seconds)
{
	std::this_thread::sleep_for(std::chrono::duration<double>(double(Seconds)));
}

FDateTime FDateTime::UtcNow()
{
	const auto Now = std::chrono::system_clock::now().time_since_epoch();
	FDateTime Time;
	Time.UnixSeconds = std::chrono::duration<double>(Now).count();
	return Time;
}

FDateTime FDateTime::Now()
{
	FDateTime Time = UtcNow();
	const std::time_t Seconds = std::time_t(Time.UnixSeconds);
	std::tm Local{};
	localtime_r(&Seconds, &Local);
	Time.UnixSeconds += double(Local.tm_gmtoff);
	return Time;
}

// --- modular features and Live Link's feature name ----------------------------------------------------------

FName ILiveLinkClient::ModularFeatureName(TEXT("LiveLinkClient"));

IModularFeatures& IModularFeatures::Get()
{
	static IModularFeatures Registry;
	return Registry;
}

void IModularFeatures::RegisterModularFeature(const FName Type, IModularFeature* ModularFeature)
{
	Features.Add(std::make_pair(Type, ModularFeature));
}

void IModularFeatures::UnregisterModularFeature(const FName Type, IModularFeature* ModularFeature)
{
	for (int32 Index = 0; Index < Features.Num(); ++Index)
	{
		if (Features[Index].first == Type && Features[Index].second == ModularFeature)
		{
			Features.RemoveAt(Index);
			return;
		}
	}
}

IModularFeature* IModularFeatures::Find(const FName Type) const
{
	for (const std::pair<FName, IModularFeature*>& Entry : Features)
	{
		if (Entry.first == Type)
		{
			return Entry.second;
		}
	}
	return nullptr;
}

// --- sockets ------------------------------------------------------------------------------------------------

const FIPv4Address FIPv4Address::Any(0u);
const FIPv4Address FIPv4Address::InternalLoopback(0x7F000001u);

bool FIPv4Address::Parse(const FString& AddressString, FIPv4Address& OutAddress)
{
	const std::string Text = PmmStub::ToUtf8(AddressString.Stub());
	uint32 Value = 0;
	int Parts = 0;
	size_t Index = 0;
	while (Parts < 4)
	{
		size_t Digits = 0;
		uint32 Part = 0;
		while (Index < Text.size() && Text[Index] >= '0' && Text[Index] <= '9' && Digits < 3)
		{
			Part = Part * 10 + uint32(Text[Index] - '0');
			++Index;
			++Digits;
		}
		if (Digits == 0 || Part > 255)
		{
			return false;
		}
		Value = (Value << 8) | Part;
		if (++Parts < 4)
		{
			if (Index >= Text.size() || Text[Index] != '.')
			{
				return false;
			}
			++Index;
		}
	}
	if (Index != Text.size())
	{
		return false;
	}
	OutAddress.Value = Value;
	return true;
}

ISocketSubsystem* ISocketSubsystem::Get(const FName& /*SubsystemName*/)
{
	static ISocketSubsystem Subsystem;
	return &Subsystem;
}

bool FSocket::Close()
{
	const int Closing = Descriptor.exchange(-1);
	return Closing < 0 || ::close(Closing) == 0;
}

bool FSocket::Wait(ESocketWaitConditions::Type /*Condition*/, FTimespan WaitTime)
{
	pollfd Poll{};
	Poll.fd = Descriptor.load();
	Poll.events = POLLIN;
	return ::poll(&Poll, 1, int(WaitTime.GetTotalMilliseconds())) > 0 && (Poll.revents & POLLIN) != 0;
}

bool FSocket::HasPendingData(uint32& PendingDataSize)
{
	int Bytes = 0;
	pollfd Poll{};
	Poll.fd = Descriptor.load();
	Poll.events = POLLIN;
	if (::poll(&Poll, 1, 0) <= 0 || ::ioctl(Poll.fd, FIONREAD, &Bytes) != 0)
	{
		return false;
	}
	// FIONREAD is 0 for a pending empty datagram: still report it, so it is read (and rejected) once.
	PendingDataSize = uint32(Bytes > 0 ? Bytes : 1);
	return true;
}

bool FSocket::RecvFrom(uint8* Data, int32 BufferSize, int32& BytesRead, FInternetAddr& Source)
{
	sockaddr_in From{};
	socklen_t FromLength = sizeof(From);
	const ssize_t Received = ::recvfrom(Descriptor.load(), Data, size_t(BufferSize), 0, reinterpret_cast<sockaddr*>(&From), &FromLength);
	if (Received < 0)
	{
		BytesRead = 0;
		return false;
	}
	BytesRead = int32(Received);
	Source.StubAddress = ntohl(From.sin_addr.s_addr);
	Source.StubPort = ntohs(From.sin_port);
	return true;
}

int32 FSocket::StubBoundPort() const
{
	sockaddr_in Bound{};
	socklen_t Length = sizeof(Bound);
	if (::getsockname(Descriptor.load(), reinterpret_cast<sockaddr*>(&Bound), &Length) != 0)
	{
		return 0;
	}
	return ntohs(Bound.sin_port);
}

FSocket* FUdpSocketBuilder::Build() const
{
	const int Descriptor = ::socket(AF_INET, SOCK_DGRAM, 0);
	if (Descriptor < 0)
	{
		return nullptr;
	}
	int One = 1;
	if (bReusable)
	{
		::setsockopt(Descriptor, SOL_SOCKET, SO_REUSEADDR, &One, sizeof(One));
	}
	if (ReceiveBufferSize > 0)
	{
		::setsockopt(Descriptor, SOL_SOCKET, SO_RCVBUF, &ReceiveBufferSize, sizeof(ReceiveBufferSize));
	}
	if (!bBlocking)
	{
		::fcntl(Descriptor, F_SETFL, ::fcntl(Descriptor, F_GETFL, 0) | O_NONBLOCK);
	}
	sockaddr_in Address{};
	Address.sin_family = AF_INET;
	Address.sin_addr.s_addr = htonl(BoundEndpoint.Address.Value);
	Address.sin_port = htons(BoundEndpoint.Port);
	if (::bind(Descriptor, reinterpret_cast<sockaddr*>(&Address), sizeof(Address)) != 0)
	{
		::close(Descriptor);
		UE_LOG(LogStubSockets, Warning, TEXT("FUdpSocketBuilder: failed to create the socket %s as configured"), *Description);
		return nullptr;
	}
	return new FSocket(Descriptor);
}

FUdpSocketReceiver::~FUdpSocketReceiver()
{
	Stop();  // the engine's FRunnableThread::Kill(true): Stop, then wait for the thread
	if (Thread.joinable())
	{
		Thread.join();
	}
}

void FUdpSocketReceiver::Start()
{
	// As FRunnableThread runs a runnable: Init, Run if Init succeeded, then Exit, on the new thread.
	Thread = std::thread([this]() {
		if (Init())
		{
			Run();
			Exit();
		}
	});
}

uint32 FUdpSocketReceiver::Run()
{
	// As the engine's: the stop flag is read between waits only; pending datagrams are all handed on.
	ISocketSubsystem* Subsystem = ISocketSubsystem::Get(PLATFORM_SOCKETSUBSYSTEM);
	TSharedRef<FInternetAddr> Sender = Subsystem->CreateInternetAddr();
	while (!Stopping)
	{
		const double ExtraSeconds = PmmStub::SocketWaitExtraSeconds.load();
		const FTimespan Wait = ExtraSeconds > 0.0 ? FTimespan::FromSeconds(WaitTime.GetTotalSeconds() + ExtraSeconds) : WaitTime;
		if (!Socket->Wait(ESocketWaitConditions::WaitForRead, Wait))
		{
			continue;
		}
		uint32 Size = 0;
		while (Socket->HasPendingData(Size))
		{
			FArrayReaderPtr Reader = MakeShareable(new FArrayReader(true));
			Reader->SetNumUninitialized(int32(std::min(Size, 65507u)));
			int32 Read = 0;
			if (Socket->RecvFrom(Reader->GetData(), Reader->Num(), Read, Sender.Get()))
			{
				Reader->RemoveAt(Read, Reader->Num() - Read, false);
				DataReceivedDelegate.ExecuteIfBound(Reader, FIPv4Endpoint(Sender));
			}
			else
			{
				break;
			}
		}
	}
	return 0;
}
