// A peer connection on GStreamer's webrtcbin, every GStreamer, GLib and libopus function
// reached through dlopen/dlsym (see ttfa_webrtc.h). The headers only give the types.
#define GST_USE_UNSTABLE_API
#define G_DISABLE_CAST_CHECKS
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <opus/opus.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ttfa_webrtc.h"

// The functions used, by library. Each becomes a pointer `p_NAME` and NAME is redirected to it.
#define TTFA_GST(X)                                                                                \
    X(gst_init_check) X(gst_parse_launch) X(gst_bin_get_by_name) X(gst_element_set_state)           \
    X(gst_object_unref) X(gst_element_get_static_pad) X(gst_pad_add_probe) X(gst_buffer_extract)    \
    X(gst_buffer_get_size) X(gst_promise_new_with_change_func) X(gst_promise_get_reply)             \
    X(gst_mini_object_unref) X(gst_structure_get) X(gst_element_factory_find)                       \
    X(gst_element_get_factory) X(gst_buffer_new_allocate) X(gst_buffer_fill) X(gst_element_get_bus) \
    X(gst_bus_set_sync_handler) X(gst_message_parse_error) X(gst_element_factory_make) X(gst_bin_add) \
    X(gst_element_sync_state_with_parent) X(gst_pad_link) X(gst_buffer_list_length)                 \
    X(gst_buffer_list_get) X(gst_mini_object_is_writable) X(gst_pad_probe_info_get_buffer)          \
    X(gst_pad_probe_info_get_buffer_list) X(gst_promise_new)
#define TTFA_GOBJECT(X)                                                                            \
    X(g_signal_connect_data) X(g_signal_emit_by_name) X(g_object_set) X(g_object_get) X(g_object_unref) \
    X(g_object_ref) X(g_object_class_find_property)
#define TTFA_GLIB(X) X(g_free) X(g_error_free)
#define TTFA_GSTWEBRTC(X) X(gst_webrtc_session_description_new) X(gst_webrtc_session_description_free) \
    X(gst_webrtc_session_description_get_type)
#define TTFA_GSTSDP(X) X(gst_sdp_message_new_from_text) X(gst_sdp_message_as_text)
#define TTFA_OPUS(X) X(opus_decoder_create) X(opus_decode) X(opus_decoder_destroy)

#define TTFA_DECLARE(name) static __typeof__(name) *p_##name;
TTFA_GST(TTFA_DECLARE)
TTFA_GOBJECT(TTFA_DECLARE)
TTFA_GLIB(TTFA_DECLARE)
TTFA_GSTWEBRTC(TTFA_DECLARE)
TTFA_GSTSDP(TTFA_DECLARE)
TTFA_OPUS(TTFA_DECLARE)

#define gst_init_check (*p_gst_init_check)
#define gst_parse_launch (*p_gst_parse_launch)
#define gst_bin_get_by_name (*p_gst_bin_get_by_name)
#define gst_element_set_state (*p_gst_element_set_state)
#define gst_object_unref (*p_gst_object_unref)
#define gst_element_get_static_pad (*p_gst_element_get_static_pad)
#define gst_pad_add_probe (*p_gst_pad_add_probe)
#define gst_buffer_extract (*p_gst_buffer_extract)
#define gst_buffer_get_size (*p_gst_buffer_get_size)
#define gst_promise_new_with_change_func (*p_gst_promise_new_with_change_func)
#define gst_promise_new (*p_gst_promise_new)
#define gst_promise_get_reply (*p_gst_promise_get_reply)
#define gst_mini_object_unref (*p_gst_mini_object_unref)
#define gst_structure_get (*p_gst_structure_get)
#define gst_element_factory_find (*p_gst_element_factory_find)
#define gst_element_get_factory (*p_gst_element_get_factory)
#define gst_buffer_new_allocate (*p_gst_buffer_new_allocate)
#define gst_buffer_fill (*p_gst_buffer_fill)
#define gst_element_get_bus (*p_gst_element_get_bus)
#define gst_bus_set_sync_handler (*p_gst_bus_set_sync_handler)
#define gst_message_parse_error (*p_gst_message_parse_error)
#define gst_element_factory_make (*p_gst_element_factory_make)
#define gst_bin_add (*p_gst_bin_add)
#define gst_element_sync_state_with_parent (*p_gst_element_sync_state_with_parent)
#define gst_pad_link (*p_gst_pad_link)
#define gst_buffer_list_length (*p_gst_buffer_list_length)
#define gst_buffer_list_get (*p_gst_buffer_list_get)
#define gst_mini_object_is_writable (*p_gst_mini_object_is_writable)
#define gst_pad_probe_info_get_buffer (*p_gst_pad_probe_info_get_buffer)
#define gst_pad_probe_info_get_buffer_list (*p_gst_pad_probe_info_get_buffer_list)
#define g_signal_connect_data (*p_g_signal_connect_data)
#define g_signal_emit_by_name (*p_g_signal_emit_by_name)
#define g_object_set (*p_g_object_set)
#define g_object_get (*p_g_object_get)
#define g_object_unref (*p_g_object_unref)
#undef g_object_ref
#define g_object_ref (*p_g_object_ref)
#define g_object_class_find_property (*p_g_object_class_find_property)
#define g_free (*p_g_free)
#define g_error_free (*p_g_error_free)
#define gst_webrtc_session_description_new (*p_gst_webrtc_session_description_new)
#define gst_webrtc_session_description_free (*p_gst_webrtc_session_description_free)
#define gst_webrtc_session_description_get_type (*p_gst_webrtc_session_description_get_type)
#define gst_sdp_message_new_from_text (*p_gst_sdp_message_new_from_text)
#define gst_sdp_message_as_text (*p_gst_sdp_message_as_text)
#define opus_decoder_create (*p_opus_decoder_create)
#define opus_decode (*p_opus_decode)
#define opus_decoder_destroy (*p_opus_decoder_destroy)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int loaded = -1;

static void *open_library(const char *name, const char *package) {
    void *handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (!handle && !load_error[0])
        snprintf(load_error, sizeof load_error, "%s is not installed (%s); install %s", name, dlerror(), package);
    return handle;
}

#define TTFA_RESOLVE(name)                                                                         \
    if (handle && !(p_##name = (__typeof__(p_##name))dlsym(handle, #name)) && !load_error[0])        \
        snprintf(load_error, sizeof load_error, "%s has no %s", library, #name);

static void load(void) {
    void *handle;
    const char *library;
    const char *packages = "gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gstreamer1.0-nice libopus0";
    library = "libgstreamer-1.0.so.0";
    handle = open_library(library, packages);
    TTFA_GST(TTFA_RESOLVE)
    library = "libgobject-2.0.so.0";
    handle = open_library(library, packages);
    TTFA_GOBJECT(TTFA_RESOLVE)
    library = "libglib-2.0.so.0";
    handle = open_library(library, packages);
    TTFA_GLIB(TTFA_RESOLVE)
    library = "libgstwebrtc-1.0.so.0";
    handle = open_library(library, packages);
    TTFA_GSTWEBRTC(TTFA_RESOLVE)
    library = "libgstsdp-1.0.so.0";
    handle = open_library(library, packages);
    TTFA_GSTSDP(TTFA_RESOLVE)
    library = "libopus.so.0";
    handle = open_library(library, packages);
    TTFA_OPUS(TTFA_RESOLVE)
    if (load_error[0]) return;
    GError *error = NULL;
    if (!gst_init_check(NULL, NULL, &error)) {
        snprintf(load_error, sizeof load_error, "GStreamer did not start: %s", error ? error->message : "?");
        if (error) g_error_free(error);
        return;
    }
    const char *elements[][2] = {
        {"webrtcbin", "gstreamer1.0-plugins-bad"}, {"nicesrc", "gstreamer1.0-nice"},
        {"opusenc", "gstreamer1.0-plugins-base"},  {"rtpopuspay", "gstreamer1.0-plugins-good"},
        {"appsrc", "gstreamer1.0-plugins-base"},   {"srtpdec", "gstreamer1.0-plugins-bad"},
        {"dtlssrtpdec", "gstreamer1.0-plugins-bad"}, {"sctpenc", "gstreamer1.0-plugins-bad"},
    };
    for (size_t i = 0; i < sizeof elements / sizeof elements[0]; i++) {
        GstElementFactory *factory = gst_element_factory_find(elements[i][0]);
        if (!factory) {
            snprintf(load_error, sizeof load_error, "GStreamer has no %s element; install %s", elements[i][0],
                     elements[i][1]);
            return;
        }
        gst_object_unref(factory);
    }
    loaded = 0;
}

int ttfa_rtc_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (loaded != 0 && error && error_size) snprintf(error, error_size, "%s", load_error);
    return loaded;
}

struct ttfa_rtc_peer {
    GstElement *pipeline;
    GstElement *webrtc;
    GstElement *mic;
    GstWebRTCDataChannel *channel;
    OpusDecoder *decoder;
    ttfa_rtc_callback callback;
    void *context;
    int offerer;
    char *label;
    pthread_mutex_t lock;
    int closed;
    int local_set;
    int gathered;
    int described;
    int open_reported;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// The mark nicesrc's probe leaves in a datagram's offsets: its arrival time, recognisable
// after decryption (offsets travel with the buffer's timestamps).
#define TTFA_STAMP_MARK 0x7474666157454254ULL

static void emit(ttfa_rtc_peer *peer, int event, int64_t t, const char *text, size_t len, int64_t a, int64_t b,
                 int64_t c) {
    pthread_mutex_lock(&peer->lock);
    int closed = peer->closed;
    pthread_mutex_unlock(&peer->lock);
    if (!closed) peer->callback(peer->context, event, t, text, len, a, b, c);
}

static void emit_error(ttfa_rtc_peer *peer, const char *message) {
    emit(peer, TTFA_RTC_ERROR, now_ns(), message, strlen(message), 0, 0, 0);
}

static GstPadProbeReturn stamp_datagram(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    (void)pad;
    (void)data;
    int64_t t = now_ns();
    GstBuffer *buffer = gst_pad_probe_info_get_buffer(info);
    if (buffer && gst_mini_object_is_writable((GstMiniObject *)buffer)) {
        GST_BUFFER_OFFSET(buffer) = TTFA_STAMP_MARK;
        GST_BUFFER_OFFSET_END(buffer) = (guint64)t;
    }
    return GST_PAD_PROBE_OK;
}

static void read_rtp(ttfa_rtc_peer *peer, GstBuffer *buffer) {
    int64_t t = now_ns();
    int64_t stamped = 0;
    if (GST_BUFFER_OFFSET(buffer) == TTFA_STAMP_MARK) {
        t = (int64_t)GST_BUFFER_OFFSET_END(buffer);
        stamped = 1;
    }
    unsigned char packet[1500];
    gsize size = gst_buffer_get_size(buffer);
    if (size < 12 || size > sizeof packet) return;
    gst_buffer_extract(buffer, 0, packet, size);
    if ((packet[0] >> 6) != 2) return;
    size_t offset = 12 + 4 * (size_t)(packet[0] & 0x0f);
    size_t end = size;
    if (packet[0] & 0x20) {
        size_t pad = packet[size - 1];
        if (pad > end) return;
        end -= pad;
    }
    if ((packet[0] & 0x10) && offset + 4 <= end) offset += 4 + 4 * (((size_t)packet[offset + 2] << 8) | packet[offset + 3]);
    if (offset > end) return;
    int64_t sequence = ((int64_t)packet[2] << 8) | packet[3];
    int64_t timestamp =
        ((int64_t)packet[4] << 24) | ((int64_t)packet[5] << 16) | ((int64_t)packet[6] << 8) | (int64_t)packet[7];
    opus_int16 pcm[5760];
    int samples = opus_decode(peer->decoder, packet + offset, (opus_int32)(end - offset), pcm, 5760, 0);
    if (samples < 0) samples = 0;
    int loud = 0;
    for (int i = 0; i < samples; i++)
        if (pcm[i] > 100 || pcm[i] < -100) {
            loud = 1;
            break;
        }
    emit(peer, TTFA_RTC_RTP, t, (const char *)pcm, (size_t)samples * 2, sequence, timestamp,
         (int64_t)samples | ((int64_t)loud << 32) | (stamped << 33));
}

static GstPadProbeReturn read_rtp_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    (void)pad;
    ttfa_rtc_peer *peer = data;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buffer = gst_pad_probe_info_get_buffer(info);
        if (buffer) read_rtp(peer, buffer);
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = gst_pad_probe_info_get_buffer_list(info);
        guint n = list ? gst_buffer_list_length(list) : 0;
        for (guint i = 0; i < n; i++) read_rtp(peer, gst_buffer_list_get(list, i));
    }
    return GST_PAD_PROBE_OK;
}

static void element_added(GstBin *bin, GstBin *sub, GstElement *element, gpointer data) {
    (void)bin;
    (void)sub;
    GstElementFactory *factory = gst_element_get_factory(element);
    if (!factory) return;
    const char *name = GST_OBJECT_NAME(factory);
    if (strcmp(name, "nicesrc") == 0) {
        GstPad *pad = gst_element_get_static_pad(element, "src");
        if (pad) {
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_datagram, NULL, NULL);
            gst_object_unref(pad);
        }
    } else if (strcmp(name, "srtpdec") == 0) {
        GstPad *pad = gst_element_get_static_pad(element, "rtp_src");
        if (pad) {
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, read_rtp_probe, data,
                              NULL);
            gst_object_unref(pad);
        }
    }
}

static void describe_if_ready(ttfa_rtc_peer *peer) {
    pthread_mutex_lock(&peer->lock);
    int ready = peer->local_set && peer->gathered && !peer->described;
    if (ready) peer->described = 1;
    pthread_mutex_unlock(&peer->lock);
    if (!ready) return;
    GstWebRTCSessionDescription *description = NULL;
    g_object_get(peer->webrtc, "local-description", &description, NULL);
    if (!description) {
        emit_error(peer, "webrtcbin has no local description after ICE gathering");
        return;
    }
    gchar *text = gst_sdp_message_as_text(description->sdp);
    emit(peer, TTFA_RTC_LOCAL_DESCRIPTION, now_ns(), text, strlen(text), 0, 0, 0);
    g_free(text);
    gst_webrtc_session_description_free(description);
}

static void gathering_changed(GstElement *webrtc, GParamSpec *spec, gpointer data) {
    (void)spec;
    ttfa_rtc_peer *peer = data;
    GstWebRTCICEGatheringState state = 0;
    g_object_get(webrtc, "ice-gathering-state", &state, NULL);
    if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
    pthread_mutex_lock(&peer->lock);
    peer->gathered = 1;
    pthread_mutex_unlock(&peer->lock);
    describe_if_ready(peer);
}

static void ice_changed(GstElement *webrtc, GParamSpec *spec, gpointer data) {
    (void)spec;
    GstWebRTCICEConnectionState state = 0;
    g_object_get(webrtc, "ice-connection-state", &state, NULL);
    emit(data, TTFA_RTC_ICE_STATE, now_ns(), NULL, 0, state, 0, 0);
}

static void peer_changed(GstElement *webrtc, GParamSpec *spec, gpointer data) {
    (void)spec;
    GstWebRTCPeerConnectionState state = 0;
    g_object_get(webrtc, "connection-state", &state, NULL);
    emit(data, TTFA_RTC_PEER_STATE, now_ns(), NULL, 0, state, 0, 0);
}

static void local_set(GstPromise *promise, gpointer data) {
    ttfa_rtc_peer *peer = data;
    gst_mini_object_unref((GstMiniObject *)promise);
    pthread_mutex_lock(&peer->lock);
    peer->local_set = 1;
    pthread_mutex_unlock(&peer->lock);
    describe_if_ready(peer);
}

static void description_created(GstPromise *promise, gpointer data) {
    ttfa_rtc_peer *peer = data;
    const GstStructure *reply = gst_promise_get_reply(promise);
    GstWebRTCSessionDescription *description = NULL;
    if (reply)
        gst_structure_get(reply, peer->offerer ? "offer" : "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                          &description, NULL);
    gst_mini_object_unref((GstMiniObject *)promise);
    if (!description) {
        emit_error(peer, peer->offerer ? "webrtcbin could not create an offer"
                                       : "webrtcbin could not answer the offer (no common audio codec or no data channel)");
        return;
    }
    GstPromise *set = gst_promise_new_with_change_func(local_set, peer, NULL);
    g_signal_emit_by_name(peer->webrtc, "set-local-description", description, set);
    gst_webrtc_session_description_free(description);
}

static void channel_open(GstWebRTCDataChannel *channel, gpointer data) {
    ttfa_rtc_peer *peer = data;
    pthread_mutex_lock(&peer->lock);
    int first = !peer->open_reported;
    peer->open_reported = 1;
    pthread_mutex_unlock(&peer->lock);
    if (!first) return;
    gchar *label = NULL;
    g_object_get(channel, "label", &label, NULL);
    emit(data, TTFA_RTC_CHANNEL_OPEN, now_ns(), label ? label : "", label ? strlen(label) : 0, 0, 0, 0);
    g_free(label);
}

static void channel_closed(GstWebRTCDataChannel *channel, gpointer data) {
    (void)channel;
    emit(data, TTFA_RTC_CHANNEL_CLOSED, now_ns(), NULL, 0, 0, 0, 0);
}

static void channel_message(GstWebRTCDataChannel *channel, gchar *text, gpointer data) {
    (void)channel;
    int64_t t = now_ns();
    if (text) emit(data, TTFA_RTC_CHANNEL_MESSAGE, t, text, strlen(text), 0, 0, 0);
}

static void watch_channel(ttfa_rtc_peer *peer, GstWebRTCDataChannel *channel) {
    g_signal_connect_data(channel, "on-open", G_CALLBACK(channel_open), peer, NULL, 0);
    g_signal_connect_data(channel, "on-close", G_CALLBACK(channel_closed), peer, NULL, 0);
    g_signal_connect_data(channel, "on-message-string", G_CALLBACK(channel_message), peer, NULL, 0);
}

static void channel_offered(GstElement *webrtc, GstWebRTCDataChannel *channel, gpointer data) {
    (void)webrtc;
    ttfa_rtc_peer *peer = data;
    pthread_mutex_lock(&peer->lock);
    int first = peer->channel == NULL;
    if (first) peer->channel = g_object_ref(channel);
    pthread_mutex_unlock(&peer->lock);
    if (!first) return;
    watch_channel(peer, channel);
    // A channel that is already open when it is announced fires no on-open of its own.
    GstWebRTCDataChannelState state = 0;
    g_object_get(channel, "ready-state", &state, NULL);
    if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN) channel_open(channel, peer);
}

static void pad_added(GstElement *webrtc, GstPad *pad, gpointer data) {
    (void)webrtc;
    ttfa_rtc_peer *peer = data;
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    if (!sink) return;
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add((GstBin *)peer->pipeline, sink);
    gst_element_sync_state_with_parent(sink);
    GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sinkpad);
    gst_object_unref(sinkpad);
}

static GstBusSyncReply bus_message(GstBus *bus, GstMessage *message, gpointer data) {
    (void)bus;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError *error = NULL;
        gchar *debug = NULL;
        gst_message_parse_error(message, &error, &debug);
        char text[512];
        snprintf(text, sizeof text, "%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
                 error ? error->message : "error");
        emit_error(data, text);
        if (error) g_error_free(error);
        g_free(debug);
    }
    // A sync handler that drops a message owns it: unreffed here, or every message (and the
    // element it names, and so the whole pipeline with its sockets) would live forever.
    gst_mini_object_unref((GstMiniObject *)message);
    return GST_BUS_DROP;
}

ttfa_rtc_peer *ttfa_rtc_peer_new(int offerer, const char *label, const char *stun, const char *turn,
                                 ttfa_rtc_callback callback, void *context, char *error, size_t error_size) {
    if (ttfa_rtc_load(error, error_size) != 0) return NULL;
    GError *parse_error = NULL;
    GstElement *pipeline = gst_parse_launch(
        "webrtcbin name=rtc bundle-policy=max-bundle latency=40 "
        "appsrc name=mic is-live=true format=time do-timestamp=true "
        "caps=audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved "
        "! opusenc frame-size=20 bitrate=32000 ! rtpopuspay pt=111 "
        "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! rtc.",
        &parse_error);
    if (!pipeline) {
        snprintf(error, error_size, "the WebRTC pipeline could not be built: %s",
                 parse_error ? parse_error->message : "?");
        if (parse_error) g_error_free(parse_error);
        return NULL;
    }
    ttfa_rtc_peer *peer = calloc(1, sizeof *peer);
    pthread_mutex_init(&peer->lock, NULL);
    peer->pipeline = pipeline;
    peer->webrtc = gst_bin_get_by_name((GstBin *)pipeline, "rtc");
    peer->mic = gst_bin_get_by_name((GstBin *)pipeline, "mic");
    peer->callback = callback;
    peer->context = context;
    peer->offerer = offerer;
    peer->label = strdup(label ? label : "oai-events");
    int opus_error = 0;
    peer->decoder = opus_decoder_create(48000, 1, &opus_error);
    // Host candidates only unless STUN/TURN is asked for: no UPnP port mapping (libnice would
    // search the network for a gateway, and print its failures).
    GObject *ice = NULL;
    g_object_get(peer->webrtc, "ice-agent", &ice, NULL);
    if (ice) {
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
            GObject *agent = NULL;
            g_object_get(ice, "agent", &agent, NULL);
            if (agent) {
                if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp"))
                    g_object_set(agent, "upnp", FALSE, NULL);
                g_object_unref(agent);
            }
        }
        g_object_unref(ice);
    }
    if (stun && *stun) g_object_set(peer->webrtc, "stun-server", stun, NULL);
    if (turn && *turn) g_object_set(peer->webrtc, "turn-server", turn, NULL);
    g_signal_connect_data(pipeline, "deep-element-added", G_CALLBACK(element_added), peer, NULL, 0);
    g_signal_connect_data(peer->webrtc, "notify::ice-gathering-state", G_CALLBACK(gathering_changed), peer, NULL, 0);
    g_signal_connect_data(peer->webrtc, "notify::ice-connection-state", G_CALLBACK(ice_changed), peer, NULL, 0);
    g_signal_connect_data(peer->webrtc, "notify::connection-state", G_CALLBACK(peer_changed), peer, NULL, 0);
    g_signal_connect_data(peer->webrtc, "on-data-channel", G_CALLBACK(channel_offered), peer, NULL, 0);
    g_signal_connect_data(peer->webrtc, "pad-added", G_CALLBACK(pad_added), peer, NULL, 0);
    GstBus *bus = gst_element_get_bus(pipeline);
    gst_bus_set_sync_handler(bus, bus_message, peer, NULL);
    gst_object_unref(bus);
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        snprintf(error, error_size, "the WebRTC pipeline did not start");
        ttfa_rtc_peer_free(peer);
        return NULL;
    }
    if (offerer) {
        GstWebRTCDataChannel *channel = NULL;
        g_signal_emit_by_name(peer->webrtc, "create-data-channel", peer->label, NULL, &channel);
        if (!channel) {
            snprintf(error, error_size, "webrtcbin could not create the data channel %s", peer->label);
            ttfa_rtc_peer_free(peer);
            return NULL;
        }
        peer->channel = channel;
        watch_channel(peer, channel);
    }
    return peer;
}

int ttfa_rtc_create_offer(ttfa_rtc_peer *peer) {
    GstPromise *promise = gst_promise_new_with_change_func(description_created, peer, NULL);
    g_signal_emit_by_name(peer->webrtc, "create-offer", NULL, promise);
    return 0;
}

static void remote_set(GstPromise *promise, gpointer data) {
    ttfa_rtc_peer *peer = data;
    gst_mini_object_unref((GstMiniObject *)promise);
    if (peer->offerer) return;
    GstPromise *answer = gst_promise_new_with_change_func(description_created, peer, NULL);
    g_signal_emit_by_name(peer->webrtc, "create-answer", NULL, answer);
}

int ttfa_rtc_set_remote(ttfa_rtc_peer *peer, const char *sdp, int is_offer) {
    GstSDPMessage *message = NULL;
    if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK || !message) return -1;
    GstWebRTCSessionDescription *description =
        gst_webrtc_session_description_new(is_offer ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER, message);
    GstPromise *promise = gst_promise_new_with_change_func(remote_set, peer, NULL);
    g_signal_emit_by_name(peer->webrtc, "set-remote-description", description, promise);
    gst_webrtc_session_description_free(description);
    return 0;
}

int ttfa_rtc_send_audio(ttfa_rtc_peer *peer, const int16_t *pcm, size_t samples) {
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, samples * 2, NULL);
    gst_buffer_fill(buffer, 0, pcm, samples * 2);
    GstFlowReturn result = GST_FLOW_OK;
    g_signal_emit_by_name(peer->mic, "push-buffer", buffer, &result);
    gst_mini_object_unref((GstMiniObject *)buffer);
    return result == GST_FLOW_OK ? 0 : -1;
}

int ttfa_rtc_send_text(ttfa_rtc_peer *peer, const char *text) {
    pthread_mutex_lock(&peer->lock);
    GstWebRTCDataChannel *channel = peer->channel ? g_object_ref(peer->channel) : NULL;
    pthread_mutex_unlock(&peer->lock);
    if (!channel) return -1;
    GstWebRTCDataChannelState state = 0;
    g_object_get(channel, "ready-state", &state, NULL);
    int ok = state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN;
    if (ok) g_signal_emit_by_name(channel, "send-string", text);
    g_object_unref(channel);
    return ok ? 0 : -1;
}

void ttfa_rtc_close_channel(ttfa_rtc_peer *peer) {
    pthread_mutex_lock(&peer->lock);
    GstWebRTCDataChannel *channel = peer->channel ? g_object_ref(peer->channel) : NULL;
    pthread_mutex_unlock(&peer->lock);
    if (!channel) return;
    g_signal_emit_by_name(channel, "close");
    g_object_unref(channel);
}

void ttfa_rtc_peer_free(ttfa_rtc_peer *peer) {
    if (!peer) return;
    pthread_mutex_lock(&peer->lock);
    peer->closed = 1;
    pthread_mutex_unlock(&peer->lock);
    gst_element_set_state(peer->pipeline, GST_STATE_NULL);
    if (peer->channel) g_object_unref(peer->channel);
    if (peer->mic) gst_object_unref(peer->mic);
    if (peer->webrtc) gst_object_unref(peer->webrtc);
    gst_object_unref(peer->pipeline);
    if (peer->decoder) opus_decoder_destroy(peer->decoder);
    free(peer->label);
    pthread_mutex_destroy(&peer->lock);
    free(peer);
}
