// Test-only OSC writer: builds well-formed and deliberately malformed datagrams byte by byte.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace PmmTest
{
using FBytes = std::vector<uint8_t>;

inline void PutUInt32(FBytes& Out, uint32_t Value)
{
	Out.push_back(uint8_t(Value >> 24));
	Out.push_back(uint8_t(Value >> 16));
	Out.push_back(uint8_t(Value >> 8));
	Out.push_back(uint8_t(Value));
}

inline void PutInt32(FBytes& Out, int32_t Value)
{
	uint32_t Bits = 0;
	std::memcpy(&Bits, &Value, 4);
	PutUInt32(Out, Bits);
}

inline void PutFloat(FBytes& Out, float Value)
{
	uint32_t Bits = 0;
	std::memcpy(&Bits, &Value, 4);
	PutUInt32(Out, Bits);
}

inline void PutUInt64(FBytes& Out, uint64_t Value)
{
	PutUInt32(Out, uint32_t(Value >> 32));
	PutUInt32(Out, uint32_t(Value & 0xFFFFFFFFu));
}

/** An OSC string: the bytes, a NUL, NULs to a multiple of 4. */
inline void PutString(FBytes& Out, const std::string& Text)
{
	Out.insert(Out.end(), Text.begin(), Text.end());
	const size_t Padded = (Text.size() / 4 + 1) * 4;
	Out.insert(Out.end(), Padded - Text.size(), 0);
}

/** A message from its address, type tags (with the ','), and already-encoded arguments. */
inline FBytes Message(const std::string& Address, const std::string& Tags, const FBytes& Arguments = FBytes())
{
	FBytes Out;
	PutString(Out, Address);
	PutString(Out, Tags);
	Out.insert(Out.end(), Arguments.begin(), Arguments.end());
	return Out;
}

inline FBytes Bundle(uint64_t TimeTag, const std::vector<FBytes>& Elements)
{
	FBytes Out = {'#', 'b', 'u', 'n', 'd', 'l', 'e', 0};
	PutUInt64(Out, TimeTag);
	for (const FBytes& Element : Elements)
	{
		PutInt32(Out, int32_t(Element.size()));
		Out.insert(Out.end(), Element.begin(), Element.end());
	}
	return Out;
}

/** /pmmtalk/names in one part (or the part given), protocol version 1 unless told. */
inline FBytes NamesMessage(const std::string& Subject, int32_t SchemaId, float Fps, int32_t NameCount, int32_t PartIndex,
	int32_t PartCount, int32_t First, const std::vector<std::string>& Names, int32_t Version = 1)
{
	FBytes Arguments;
	PutInt32(Arguments, Version);
	PutString(Arguments, Subject);
	PutInt32(Arguments, SchemaId);
	PutFloat(Arguments, Fps);
	PutInt32(Arguments, NameCount);
	PutInt32(Arguments, PartIndex);
	PutInt32(Arguments, PartCount);
	PutInt32(Arguments, First);
	for (const std::string& Name : Names)
	{
		PutString(Arguments, Name);
	}
	return Message("/pmmtalk/names", ",isifiiii" + std::string(Names.size(), 's'), Arguments);
}

/** A frame bundle, as the daemon sends it. */
inline FBytes FrameBundle(const std::string& Subject, int32_t SchemaId, int32_t Number, const std::vector<float>& Values,
	uint64_t TimeTag = 1, int32_t Version = 1)
{
	FBytes Arguments;
	PutInt32(Arguments, Version);
	PutString(Arguments, Subject);
	PutInt32(Arguments, SchemaId);
	PutInt32(Arguments, Number);
	for (const float Value : Values)
	{
		PutFloat(Arguments, Value);
	}
	return Bundle(TimeTag, {Message("/pmmtalk/frame", ",isii" + std::string(Values.size(), 'f'), Arguments)});
}

inline FBytes VmcValue(const std::string& Name, float Value)
{
	FBytes Arguments;
	PutString(Arguments, Name);
	PutFloat(Arguments, Value);
	return Message("/VMC/Ext/Blend/Val", ",sf", Arguments);
}

inline FBytes VmcApply()
{
	return Message("/VMC/Ext/Blend/Apply", ",");
}
}  // namespace PmmTest
