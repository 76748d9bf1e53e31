// OSC 1.0 reading, bounds-checked everywhere: messages, bundles (nesting bounded), the argument types
// OSC 1.0 and its common extensions define. Standard library only (no engine includes), so the same code
// is compiled by Unreal and by the host checks (unreal_plugin/HostChecks), which fuzz it.
//
// Nothing here allocates more than the datagram can justify: every length read from the wire is checked
// against the bytes left before it is used, and argument vectors are bounded by the type-tag string, whose
// bytes are themselves in the datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace Pmmtalk
{
namespace Osc
{

/** Bundles inside bundles: the daemon never nests, VMC senders rarely do; deeper is refused. */
constexpr int MaxBundleDepth = 4;

/** Timetag 1 means "now" (OSC 1.0); a bare message carries no timetag and is given this one. */
constexpr uint64_t TimeTagImmediately = 1;

enum class EError : uint8_t
{
	None,
	Empty,                 // a zero-byte datagram
	NotOsc,                // neither '/' (message) nor "#bundle\0"
	TruncatedString,       // no NUL, or the padding runs past the end
	BadPadding,            // a string's or blob's padding holds something other than NUL
	MissingTypeTags,       // no type-tag string after the address
	TruncatedArgument,     // an argument runs past the end
	UnknownTypeTag,        // a tag whose size is unknown: parsing must stop there
	BadBlobSize,           // negative, or larger than what is left
	BadElementSize,        // a bundle element size that is negative, not a multiple of 4, 0 or past the end
	TooDeep,               // bundles nested deeper than MaxBundleDepth
	TrailingBytes,         // bytes after a message's last argument
};

inline const char* ErrorText(EError Error)
{
	switch (Error)
	{
	case EError::None: return "no error";
	case EError::Empty: return "empty datagram";
	case EError::NotOsc: return "not an OSC packet";
	case EError::TruncatedString: return "truncated OSC string";
	case EError::BadPadding: return "OSC padding is not NUL";
	case EError::MissingTypeTags: return "OSC message without type tags";
	case EError::TruncatedArgument: return "truncated OSC argument";
	case EError::UnknownTypeTag: return "unknown OSC type tag";
	case EError::BadBlobSize: return "bad OSC blob size";
	case EError::BadElementSize: return "bad OSC bundle element size";
	case EError::TooDeep: return "OSC bundles nested too deep";
	case EError::TrailingBytes: return "bytes after the last OSC argument";
	}
	return "unknown OSC error";
}

/** One decoded argument. Only the fields of its tag are meaningful. */
struct FArgument
{
	char Tag = 0;
	int32_t Int = 0;          // i, and c (a 32-bit character), r (RGBA), m (MIDI) as raw bits
	float Float = 0.0f;       // f
	int64_t Int64 = 0;        // h
	double Double = 0.0;      // d
	uint64_t TimeTag = 0;     // t
	std::string_view Text;    // s, S: the bytes before the NUL; b: the blob's bytes
};

/** A message as a view into the datagram: valid while the datagram's bytes are. */
struct FMessage
{
	std::string_view Address;          // starts with '/'
	std::string_view TypeTags;         // without the leading ','
	std::vector<FArgument> Arguments;  // one per tag that carries data or a value (T F N I)
	uint64_t TimeTag = TimeTagImmediately;  // of the innermost enclosing bundle
};

/** Big-endian reads from a byte range; every read checks the bytes left and never moves past the end. */
class FReader
{
public:
	FReader(const uint8_t* InData, size_t InSize)
		: Data(InData), Size(InSize)
	{
	}

	size_t Remaining() const { return Size - Position; }
	size_t Offset() const { return Position; }

	bool ReadUInt32(uint32_t& Out)
	{
		if (Remaining() < 4)
		{
			return false;
		}
		const uint8_t* Bytes = Data + Position;
		Out = (uint32_t(Bytes[0]) << 24) | (uint32_t(Bytes[1]) << 16) | (uint32_t(Bytes[2]) << 8) | uint32_t(Bytes[3]);
		Position += 4;
		return true;
	}

	bool ReadUInt64(uint64_t& Out)
	{
		uint32_t High = 0;
		uint32_t Low = 0;
		if (Remaining() < 8 || !ReadUInt32(High) || !ReadUInt32(Low))
		{
			return false;
		}
		Out = (uint64_t(High) << 32) | Low;
		return true;
	}

	bool ReadInt32(int32_t& Out)
	{
		uint32_t Bits = 0;
		if (!ReadUInt32(Bits))
		{
			return false;
		}
		std::memcpy(&Out, &Bits, sizeof(Out));  // two's complement, no implementation-defined conversion
		return true;
	}

	bool ReadFloat(float& Out)
	{
		uint32_t Bits = 0;
		if (!ReadUInt32(Bits))
		{
			return false;
		}
		std::memcpy(&Out, &Bits, sizeof(Out));
		return true;
	}

	bool ReadInt64(int64_t& Out)
	{
		uint64_t Bits = 0;
		if (!ReadUInt64(Bits))
		{
			return false;
		}
		std::memcpy(&Out, &Bits, sizeof(Out));
		return true;
	}

	bool ReadDouble(double& Out)
	{
		uint64_t Bits = 0;
		if (!ReadUInt64(Bits))
		{
			return false;
		}
		std::memcpy(&Out, &Bits, sizeof(Out));
		return true;
	}

	/** An OSC string: bytes, one NUL, NULs up to a multiple of 4 (all checked). */
	EError ReadString(std::string_view& Out)
	{
		if (Remaining() == 0)
		{
			return EError::TruncatedString;
		}
		const void* Nul = std::memchr(Data + Position, 0, Remaining());
		if (Nul == nullptr)
		{
			return EError::TruncatedString;
		}
		const size_t Length = size_t(static_cast<const uint8_t*>(Nul) - (Data + Position));
		const size_t Padded = (Length / 4 + 1) * 4;
		if (Padded > Remaining())
		{
			return EError::TruncatedString;
		}
		for (size_t Index = Length; Index < Padded; ++Index)
		{
			if (Data[Position + Index] != 0)
			{
				return EError::BadPadding;
			}
		}
		Out = std::string_view(reinterpret_cast<const char*>(Data + Position), Length);
		Position += Padded;
		return EError::None;
	}

	/** An OSC blob: int32 size, the bytes, NULs up to a multiple of 4. */
	EError ReadBlob(std::string_view& Out)
	{
		int32_t SignedSize = 0;
		if (!ReadInt32(SignedSize))
		{
			return EError::TruncatedArgument;
		}
		if (SignedSize < 0 || size_t(SignedSize) > Remaining())
		{
			return EError::BadBlobSize;
		}
		const size_t Length = size_t(SignedSize);
		const size_t Padded = (Length + 3) / 4 * 4;
		if (Padded > Remaining())
		{
			return EError::BadBlobSize;
		}
		for (size_t Index = Length; Index < Padded; ++Index)
		{
			if (Data[Position + Index] != 0)
			{
				return EError::BadPadding;
			}
		}
		Out = std::string_view(reinterpret_cast<const char*>(Data + Position), Length);
		Position += Padded;
		return EError::None;
	}

	/** The next Count bytes as a sub-range; false if fewer are left. */
	bool Take(size_t Count, const uint8_t*& OutData)
	{
		if (Count > Remaining())
		{
			return false;
		}
		OutData = Data + Position;
		Position += Count;
		return true;
	}

private:
	const uint8_t* Data;
	size_t Size;
	size_t Position = 0;
};

/** Reads one argument of type Tag into Out. */
inline EError ReadArgument(FReader& Reader, char Tag, FArgument& Out)
{
	Out = FArgument();
	Out.Tag = Tag;
	switch (Tag)
	{
	case 'i':
	case 'c':
	case 'r':
	case 'm':
		return Reader.ReadInt32(Out.Int) ? EError::None : EError::TruncatedArgument;
	case 'f':
		return Reader.ReadFloat(Out.Float) ? EError::None : EError::TruncatedArgument;
	case 'h':
		return Reader.ReadInt64(Out.Int64) ? EError::None : EError::TruncatedArgument;
	case 'd':
		return Reader.ReadDouble(Out.Double) ? EError::None : EError::TruncatedArgument;
	case 't':
		return Reader.ReadUInt64(Out.TimeTag) ? EError::None : EError::TruncatedArgument;
	case 's':
	case 'S':
	{
		const EError Error = Reader.ReadString(Out.Text);
		return Error == EError::TruncatedString ? EError::TruncatedArgument : Error;
	}
	case 'b':
		return Reader.ReadBlob(Out.Text);
	case 'T':
	case 'F':
	case 'N':
	case 'I':
		return EError::None;  // the tag is the value: no bytes
	default:
		return EError::UnknownTypeTag;
	}
}

/** Parses one message filling all of [Data, Data + Size): address, type tags, arguments, nothing after. */
inline EError ParseMessage(const uint8_t* Data, size_t Size, uint64_t TimeTag, FMessage& Out)
{
	FReader Reader(Data, Size);
	Out.Arguments.clear();
	Out.TimeTag = TimeTag;
	EError Error = Reader.ReadString(Out.Address);
	if (Error != EError::None)
	{
		return Error;
	}
	if (Out.Address.empty() || Out.Address[0] != '/')
	{
		return EError::NotOsc;
	}
	if (Reader.Remaining() == 0)
	{
		return EError::MissingTypeTags;
	}
	std::string_view Tags;
	Error = Reader.ReadString(Tags);
	if (Error != EError::None)
	{
		return Error;
	}
	if (Tags.empty() || Tags[0] != ',')
	{
		return EError::MissingTypeTags;
	}
	Out.TypeTags = Tags.substr(1);
	Out.Arguments.reserve(Out.TypeTags.size());  // bounded: each tag is a byte of this datagram
	for (const char Tag : Out.TypeTags)
	{
		if (Tag == '[' || Tag == ']')
		{
			continue;  // array delimiters carry no bytes; the elements follow as ordinary arguments
		}
		FArgument Argument;
		Error = ReadArgument(Reader, Tag, Argument);
		if (Error != EError::None)
		{
			return Error;
		}
		Out.Arguments.push_back(Argument);
	}
	return Reader.Remaining() == 0 ? EError::None : EError::TrailingBytes;
}

namespace Detail
{
constexpr char BundleTag[8] = {'#', 'b', 'u', 'n', 'd', 'l', 'e', '\0'};

template <typename FunctionType>
EError ParseElement(const uint8_t* Data, size_t Size, uint64_t TimeTag, int Depth, FMessage& Scratch,
	FunctionType& OnMessage)
{
	if (Size == 0)
	{
		return EError::Empty;
	}
	if (Data[0] == '/')
	{
		const EError Error = ParseMessage(Data, Size, TimeTag, Scratch);
		if (Error == EError::None)
		{
			OnMessage(static_cast<const FMessage&>(Scratch));
		}
		return Error;
	}
	if (Size < sizeof(BundleTag) || std::memcmp(Data, BundleTag, sizeof(BundleTag)) != 0)
	{
		return EError::NotOsc;
	}
	if (Depth >= MaxBundleDepth)
	{
		return EError::TooDeep;
	}
	FReader Reader(Data + sizeof(BundleTag), Size - sizeof(BundleTag));
	uint64_t BundleTimeTag = 0;
	if (!Reader.ReadUInt64(BundleTimeTag))
	{
		return EError::TruncatedArgument;
	}
	while (Reader.Remaining() > 0)
	{
		int32_t ElementSize = 0;
		if (!Reader.ReadInt32(ElementSize))
		{
			return EError::BadElementSize;
		}
		if (ElementSize <= 0 || ElementSize % 4 != 0 || size_t(ElementSize) > Reader.Remaining())
		{
			return EError::BadElementSize;
		}
		const uint8_t* Element = nullptr;
		Reader.Take(size_t(ElementSize), Element);
		const EError Error = ParseElement(Element, size_t(ElementSize), BundleTimeTag, Depth + 1, Scratch, OnMessage);
		if (Error != EError::None)
		{
			return Error;
		}
	}
	return EError::None;
}
}  // namespace Detail

/**
 * Walks one datagram: a message, or a bundle of messages and bundles (at most MaxBundleDepth deep).
 * Calls OnMessage(const FMessage&) for each message in order; the message's views point into Data.
 * Stops at the first malformed element and returns why; the messages before it were already delivered
 * (each bundle element is complete on its own).
 */
template <typename FunctionType>
EError ParsePacket(const uint8_t* Data, size_t Size, FunctionType&& OnMessage)
{
	FMessage Scratch;
	return Detail::ParseElement(Data, Size, TimeTagImmediately, 0, Scratch, OnMessage);
}

}  // namespace Osc
}  // namespace Pmmtalk
