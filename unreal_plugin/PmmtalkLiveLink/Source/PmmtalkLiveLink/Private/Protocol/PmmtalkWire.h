// The daemon's messages on top of OSC (docs/protocol.md section 2): /pmmtalk/names and /pmmtalk/frame,
// the schema id (CRC-32 of the names), timetags; and VMC's blend-shape messages. Standard library only.
#pragma once

#include "PmmtalkOsc.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace Pmmtalk
{

/** The protocol this plugin speaks: the first argument of every /pmmtalk/ message. */
constexpr int32_t ProtocolVersion = 1;

inline constexpr std::string_view NamesAddress = "/pmmtalk/names";
inline constexpr std::string_view FrameAddress = "/pmmtalk/frame";
inline constexpr std::string_view VmcBlendValueAddress = "/VMC/Ext/Blend/Val";
inline constexpr std::string_view VmcBlendApplyAddress = "/VMC/Ext/Blend/Apply";

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
constexpr double NtpUnixOffsetSeconds = 2208988800.0;

/** CRC-32 as zlib, zip and PNG compute it (polynomial 0x04C11DB7 reflected, init and final XOR all ones). */
class FCrc32
{
public:
	void Update(std::string_view Bytes)
	{
		for (const char Character : Bytes)
		{
			State ^= static_cast<unsigned char>(Character);
			for (int Bit = 0; Bit < 8; ++Bit)
			{
				State = (State >> 1) ^ (0xEDB88320u & (0u - (State & 1u)));
			}
		}
	}
	uint32_t Final() const { return State ^ 0xFFFFFFFFu; }

private:
	uint32_t State = 0xFFFFFFFFu;
};

/** The schema id of a list of names: CRC-32 of the UTF-8 names joined by "\n", top bit cleared (section 2.5). */
template <typename StringType>
int32_t SchemaIdOf(const std::vector<StringType>& Names)
{
	FCrc32 Crc;
	for (size_t Index = 0; Index < Names.size(); ++Index)
	{
		if (Index > 0)
		{
			Crc.Update("\n");
		}
		Crc.Update(std::string_view(Names[Index]));
	}
	return int32_t(Crc.Final() & 0x7FFFFFFFu);
}

/** What decoding one of our messages found. */
enum class EDecode : uint8_t
{
	Ok,
	WrongVersion,  // the first argument is a version this plugin does not speak (see OutVersion)
	BadTypeTags,   // not the exact type tags of protocol version 1
};

/** One part of the names message (section 2.3); the views point into the datagram. */
struct FNamesPart
{
	std::string_view Subject;
	int32_t SchemaId = 0;
	float Fps = 0.0f;
	int32_t NameCount = 0;
	int32_t PartIndex = 0;
	int32_t PartCount = 0;
	int32_t FirstNameIndex = 0;
	std::vector<std::string_view> Names;
};

/** One frame message (section 2.4). */
struct FFrameMessage
{
	std::string_view Subject;
	int32_t SchemaId = 0;
	int32_t FrameNumber = 0;
	std::vector<float> Values;
	uint64_t TimeTag = Osc::TimeTagImmediately;
};

namespace Detail
{
/**
 * Version check first, so a newer sender is reported as such rather than as garbage. Every version
 * starts with the version and the subject: the subject is read whatever the version, for the log.
 */
inline EDecode CheckVersion(const Osc::FMessage& Message, int32_t& OutVersion, std::string_view& OutSubject)
{
	OutVersion = 0;
	OutSubject = std::string_view();
	if (Message.TypeTags.empty() || Message.TypeTags[0] != 'i' || Message.Arguments.empty())
	{
		return EDecode::BadTypeTags;
	}
	OutVersion = Message.Arguments[0].Int;
	if (Message.TypeTags.size() > 1 && Message.TypeTags[1] == 's' && Message.Arguments.size() > 1)
	{
		OutSubject = Message.Arguments[1].Text;
	}
	return OutVersion == ProtocolVersion ? EDecode::Ok : EDecode::WrongVersion;
}

/** Tags are exactly Head followed only by Repeated characters. */
inline bool TagsAre(std::string_view Tags, std::string_view Head, char Repeated)
{
	if (Tags.size() < Head.size() || Tags.substr(0, Head.size()) != Head)
	{
		return false;
	}
	for (size_t Index = Head.size(); Index < Tags.size(); ++Index)
	{
		if (Tags[Index] != Repeated)
		{
			return false;
		}
	}
	return true;
}
}  // namespace Detail

/** Decodes /pmmtalk/names ,isifiiii s...; the address must already have been matched. Out.Subject is set for any version. */
inline EDecode DecodeNames(const Osc::FMessage& Message, FNamesPart& Out, int32_t& OutVersion)
{
	const EDecode Version = Detail::CheckVersion(Message, OutVersion, Out.Subject);
	if (Version != EDecode::Ok)
	{
		return Version;
	}
	// Arguments line up one to one with tags here: "isifiiii" and "s" carry no array markers.
	if (!Detail::TagsAre(Message.TypeTags, "isifiiii", 's') || Message.Arguments.size() != Message.TypeTags.size())
	{
		return EDecode::BadTypeTags;
	}
	const std::vector<Osc::FArgument>& Arguments = Message.Arguments;
	Out.Subject = Arguments[1].Text;
	Out.SchemaId = Arguments[2].Int;
	Out.Fps = Arguments[3].Float;
	Out.NameCount = Arguments[4].Int;
	Out.PartIndex = Arguments[5].Int;
	Out.PartCount = Arguments[6].Int;
	Out.FirstNameIndex = Arguments[7].Int;
	Out.Names.clear();
	Out.Names.reserve(Arguments.size() - 8);
	for (size_t Index = 8; Index < Arguments.size(); ++Index)
	{
		Out.Names.push_back(Arguments[Index].Text);
	}
	return EDecode::Ok;
}

/** Decodes /pmmtalk/frame ,isii f...; the address must already have been matched. Out.Subject is set for any version. */
inline EDecode DecodeFrame(const Osc::FMessage& Message, FFrameMessage& Out, int32_t& OutVersion)
{
	const EDecode Version = Detail::CheckVersion(Message, OutVersion, Out.Subject);
	if (Version != EDecode::Ok)
	{
		return Version;
	}
	if (!Detail::TagsAre(Message.TypeTags, "isii", 'f') || Message.Arguments.size() != Message.TypeTags.size())
	{
		return EDecode::BadTypeTags;
	}
	const std::vector<Osc::FArgument>& Arguments = Message.Arguments;
	Out.Subject = Arguments[1].Text;
	Out.SchemaId = Arguments[2].Int;
	Out.FrameNumber = Arguments[3].Int;
	Out.TimeTag = Message.TimeTag;
	Out.Values.clear();
	Out.Values.reserve(Arguments.size() - 4);
	for (size_t Index = 4; Index < Arguments.size(); ++Index)
	{
		Out.Values.push_back(Arguments[Index].Float);
	}
	return EDecode::Ok;
}

/** Decodes VMC's /VMC/Ext/Blend/Val ,sf (name, value); false for any other shape. */
inline bool DecodeVmcBlendValue(const Osc::FMessage& Message, std::string_view& OutName, float& OutValue)
{
	if (Message.TypeTags != "sf" || Message.Arguments.size() != 2)
	{
		return false;
	}
	OutName = Message.Arguments[0].Text;
	OutValue = Message.Arguments[1].Float;
	return true;
}

/**
 * An OSC timetag as Unix seconds, or false for "immediately" (0 or 1), which carries no time. The NTP
 * seconds wrap in 2036: the era is the one that puts the time nearest to NowUnixSeconds.
 */
inline bool TimeTagToUnixSeconds(uint64_t TimeTag, double NowUnixSeconds, double& OutUnixSeconds)
{
	if (TimeTag <= Osc::TimeTagImmediately)
	{
		return false;
	}
	constexpr double Era = 4294967296.0;  // 2^32 s
	const double NtpSeconds = double(uint32_t(TimeTag >> 32)) + double(uint32_t(TimeTag & 0xFFFFFFFFu)) / Era;
	double UnixSeconds = NtpSeconds - NtpUnixOffsetSeconds;
	const double Eras = std::floor((NowUnixSeconds - UnixSeconds) / Era + 0.5);
	OutUnixSeconds = UnixSeconds + Eras * Era;
	return true;
}

/** A frame rate as a ratio, the way Unreal's FFrameRate holds it: 60 -> 60/1, 29.97 -> 30000/1001. */
struct FFrameRateRatio
{
	int32_t Numerator = 60;
	int32_t Denominator = 1;
};

inline FFrameRateRatio FrameRateRatio(float Fps)
{
	FFrameRateRatio Ratio;
	if (!std::isfinite(Fps) || Fps <= 0.0f || Fps > 1000.0f)
	{
		return Ratio;  // the default, 60/1: a schema's fps was already checked; this is belt and braces
	}
	const double Rate = double(Fps);
	const double Whole = std::round(Rate);
	const double NtscNumerator = std::round(Rate * 1001.0);
	if (std::fabs(Rate - Whole) < 1e-3)
	{
		Ratio.Numerator = int32_t(Whole);
	}
	else if (std::fabs(NtscNumerator / 1001.0 - Rate) < 1e-3 && std::fmod(NtscNumerator, 1000.0) == 0.0)
	{
		Ratio.Numerator = int32_t(NtscNumerator);
		Ratio.Denominator = 1001;
	}
	else
	{
		Ratio.Numerator = int32_t(std::round(Rate * 1000.0));
		Ratio.Denominator = 1000;
	}
	return Ratio;
}

/** A frame time of day (section 3.3): local time of day times fps, as whole frames and a fraction. */
struct FSceneFrame
{
	int32_t Frame = 0;
	float SubFrame = 0.0f;
};

inline FSceneFrame SceneFrameOfDay(double UnixSeconds, double UtcOffsetSeconds, FFrameRateRatio Rate)
{
	FSceneFrame Scene;
	double SecondsOfDay = std::fmod(UnixSeconds + UtcOffsetSeconds, 86400.0);
	if (!std::isfinite(SecondsOfDay))
	{
		return Scene;
	}
	if (SecondsOfDay < 0.0)
	{
		SecondsOfDay += 86400.0;
	}
	const double Frames = SecondsOfDay * double(Rate.Numerator) / double(Rate.Denominator);
	const double Whole = std::floor(Frames);
	Scene.Frame = int32_t(Whole);
	Scene.SubFrame = float(Frames - Whole);
	if (Scene.SubFrame >= 1.0f)  // rounding to float can reach 1.0
	{
		Scene.SubFrame = 0.0f;
		Scene.Frame += 1;
	}
	return Scene;
}

}  // namespace Pmmtalk
